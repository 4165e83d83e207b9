// Main's side of the IPC table (shared/ipc-schema.ts): one ipcMain handler per request of the
// table, each checking the sender and validating the argument before routing it, and pushes
// to the renderer typed by the table. main/electron/main.ts passes Electron's ipcMain; the
// tests pass their own, so what is registered is checked without Electron.

import { INVOKE_CHANNELS, NOTIFY_CHANNELS, type NotifyMethod, type PayloadOf } from '../shared/ipc-schema.js';
import { routeRequest, toApiError, type Envelope, type RouterTargets } from './api-router.js';
import { validateIpcRequest } from './ipc-validation.js';

/** The part of Electron's IpcMainInvokeEvent the handlers read. */
export interface InvokeEventLike {
  readonly senderFrame?: { readonly url: string } | null;
}

/** The part of Electron's ipcMain the registration uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<Envelope>): void;
}

export interface IpcHandlerOptions extends RouterTargets {
  /** Whether a page may talk to main at all (main/ipc-validation.ts isTrustedSender). */
  readonly isTrustedSender: (url: string) => boolean;
}

/** Registers every request channel of the table; returns the channels, in table order. */
export function registerIpcHandlers(ipcMain: IpcMainLike, options: IpcHandlerOptions): readonly string[] {
  const channels = [...INVOKE_CHANNELS.keys()];
  for (const channel of channels) ipcMain.handle(channel, (event, ...args) => handleIpcRequest(channel, event.senderFrame?.url ?? '', args, options));
  return channels;
}

/** One request: refused unless it comes from our own page and its argument passes the table's schema; nothing is done otherwise. */
export async function handleIpcRequest(channel: string, senderUrl: string, args: readonly unknown[], options: IpcHandlerOptions): Promise<Envelope> {
  if (!options.isTrustedSender(senderUrl)) return { ok: false, error: toApiError(new Error('request from an untrusted page refused')) };
  const validated = validateIpcRequest(channel, args);
  if (!validated.ok) return validated;
  return routeRequest(validated.request, options);
}

/** The channel of a push, and a payload of the type the table gives it. */
export function pushMessage<K extends NotifyMethod>(method: K, payload: PayloadOf<K>): { readonly channel: string; readonly payload: PayloadOf<K> } {
  const channel = NOTIFY_CHANNELS.get(method);
  if (channel === undefined) throw new Error(`no push named ${method}`);
  return { channel, payload };
}
