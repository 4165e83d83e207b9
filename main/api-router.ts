// Carries out a validated renderer request: a helper method of the IPC table goes to the
// supervisor, anything else to main's own handler for it. The answer is always an envelope,
// never a rejection, because Electron flattens errors thrown from ipcMain.handle into an
// opaque "Error invoking remote method" string; preload unwraps the envelope and rejects
// with the ApiError itself.

import { APP_UNAVAILABLE, type ApiError } from '../shared/desktop-api.js';
import { ipcSchema, type InvokeEntry, type LocalMethod, type ParsedParamsOf, type ResultOf } from '../shared/ipc-schema.js';
import { ErrorCode } from '../shared/protocol/json-rpc.js';
import type { MethodName, ParamsOf as HelperParamsOf, ResultOf as HelperResultOf } from '../shared/protocol/methods.js';
import { HelperError, HelperUnavailableError } from '../shared/rpc/helper-client.js';
import type { ValidRequest } from './ipc-validation.js';

export type Envelope = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: ApiError };

/** Main's own answer to each request the table does not forward to the helper: one per entry, or it does not compile. */
export type LocalHandlers = { readonly [K in LocalMethod]: (params: ParsedParamsOf<K>) => ResultOf<K> | Promise<ResultOf<K>> };

export interface RouterTargets {
  readonly helper: { call<M extends MethodName>(method: M, params: HelperParamsOf<M>): Promise<HelperResultOf<M>> };
  readonly local: LocalHandlers;
}

export async function routeRequest(request: ValidRequest, targets: RouterTargets): Promise<Envelope> {
  try {
    const entry: InvokeEntry = ipcSchema[request.method];
    // Params were parsed by the shared schema; the output form is valid input too.
    if (entry.helper !== null) return { ok: true, value: await targets.helper.call(entry.helper, request.params as never) };
    const handler = Object.hasOwn(targets.local, request.method) ? (targets.local as unknown as Record<string, (params: unknown) => unknown>)[request.method] : undefined;
    if (typeof handler !== 'function') throw new Error(`${request.method} is not available here`);
    return { ok: true, value: await handler(request.params) };
  } catch (error) {
    return { ok: false, error: toApiError(error) };
  }
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof HelperError) return { code: error.code, message: error.message };
  if (error instanceof HelperUnavailableError) return { code: APP_UNAVAILABLE, message: error.message };
  // Anything else is our bug or a store failure: say so without internals.
  return { code: ErrorCode.INTERNAL_ERROR, message: error instanceof Error ? error.message.slice(0, 300) : 'internal error' };
}
