// Carries out a validated renderer request: helper methods go to the supervisor, preference
// calls to the store. The answer is always an envelope, never a rejection, because Electron
// flattens errors thrown from ipcMain.handle into an opaque "Error invoking remote method"
// string; preload unwraps the envelope and rejects with the ApiError itself.

import { APP_UNAVAILABLE, type ApiError, type GuiPreferences, type HelperFix, type HelperFixResult, type HelperSetup } from '../shared/desktop-api.js';
import { ErrorCode } from '../shared/protocol/json-rpc.js';
import type { MethodName, ParamsOf, ResultOf } from '../shared/protocol/methods.js';
import { HelperError, HelperUnavailableError } from '../shared/rpc/helper-client.js';
import type { ValidRequest } from './ipc-validation.js';
import type { PreferenceChanges } from './preferences-schema.js';

export type Envelope = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: ApiError };

export interface RouterTargets {
  readonly helper: { call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> };
  readonly preferences: { get(): GuiPreferences; set(changes: PreferenceChanges): GuiPreferences };
  /** Desktop services main answers itself (clipboard, helper set-up); see main/electron/main.ts. */
  readonly desktop?: {
    copyAddress(address: string): void;
    helperSetup(): Promise<HelperSetup>;
    fixHelper(action: HelperFix): Promise<HelperFixResult>;
  };
}

export async function routeRequest(request: ValidRequest, targets: RouterTargets): Promise<Envelope> {
  try {
    switch (request.kind) {
      case 'helper':
        // Params were parsed by the shared schema; the output form is valid input too.
        return { ok: true, value: await targets.helper.call(request.method, request.params as ParamsOf<MethodName>) };
      case 'preferences.get':
        return { ok: true, value: targets.preferences.get() };
      case 'preferences.set':
        return { ok: true, value: targets.preferences.set(request.changes) };
      case 'copy-address':
        targets.desktop?.copyAddress(request.address);
        return { ok: true, value: undefined };
      case 'helper.setup':
        if (targets.desktop === undefined) throw new Error('helper set-up is not available here');
        return { ok: true, value: await targets.desktop.helperSetup() };
      case 'helper.fix':
        if (targets.desktop === undefined) throw new Error('helper set-up is not available here');
        return { ok: true, value: await targets.desktop.fixHelper(request.action) };
    }
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
