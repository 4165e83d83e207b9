// The renderer's only door to the app: window.portsentry (shared/desktop-api.ts), built from
// the IPC table (shared/ipc-schema.ts): one function per request, one listener registration
// per push. A sandboxed preload is compiled as a CommonJS function body (require, process,
// exports, module) whose require() knows only 'electron' and a few built-ins: no ESM syntax,
// no local modules, so it cannot load the table. Hence .cts (emitted as preload.cjs),
// type-only references (erased), and the table's names and channels written into the
// compiled file at build time by scripts/build-preload.mjs (the PORTSENTRY_IPC_MANIFEST line
// below). Every call is validated again in main.

type Electron = typeof import('electron');
type Api = import('../../shared/desktop-api.js').PortSentryApi;
type ApiError = import('../../shared/desktop-api.js').ApiError;
type PreloadManifest = import('../../shared/ipc-schema.js').PreloadManifest;

/** Replaced by scripts/build-preload.mjs with preloadManifest() of shared/ipc-schema.ts; a preload built without it fails at once. */
declare const PORTSENTRY_IPC_MANIFEST: PreloadManifest;
const manifest: PreloadManifest = PORTSENTRY_IPC_MANIFEST;

const { contextBridge, ipcRenderer } = require('electron') as Electron;

type Envelope = { ok: true; value: unknown } | { ok: false; error: ApiError };

/** Unwraps main's envelope: a value, or a rejection with the plain { code, message }. */
async function invoke(channel: string, arg?: unknown): Promise<unknown> {
  const envelope = (await (arg === undefined ? ipcRenderer.invoke(channel) : ipcRenderer.invoke(channel, arg))) as Envelope;
  if (envelope.ok) return envelope.value;
  throw { code: envelope.error.code, message: envelope.error.message };
}

/** Push subscriptions: the listener gets only the payload, never the IpcRendererEvent (it exposes the sender). */
function subscribe(channel: string, listener: unknown): () => void {
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  const handler = (_event: unknown, value: unknown) => void listener(value);
  ipcRenderer.on(channel, handler);
  return () => void ipcRenderer.removeListener(channel, handler);
}

const api: Record<string, unknown> = {};
// Only the first argument crosses (main refuses more); a request without one sends none.
for (const [name, channel] of manifest.invoke) api[name] = (arg?: unknown) => invoke(channel, arg);
for (const [name, channel] of manifest.notify) api[name] = (listener: unknown) => subscribe(channel, listener);

contextBridge.exposeInMainWorld('portsentry', api as Api);
