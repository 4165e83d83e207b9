// The renderer's only door to the app: window.portsentry (shared/desktop-api.ts), over a
// fixed set of IPC channels. A sandboxed preload is compiled as a CommonJS function body
// (require, process, exports, module) whose require() knows only 'electron' and a few
// built-ins: no ESM syntax, no local modules. Hence .cts (emitted as preload.cjs), type-only
// references (erased), and the channel names repeated from main/ipc-channels.ts; a test
// checks the two lists match. Every call is validated again in main.

type Electron = typeof import('electron');
type Api = import('../../shared/desktop-api.js').PortSentryApi;
type ApiError = import('../../shared/desktop-api.js').ApiError;

const { contextBridge, ipcRenderer } = require('electron') as Electron;

type Envelope = { ok: true; value: unknown } | { ok: false; error: ApiError };

/** Unwraps main's envelope: a value, or a rejection with the plain { code, message }. */
async function invoke(channel: string, arg?: unknown): Promise<never> {
  const envelope = (await (arg === undefined ? ipcRenderer.invoke(channel) : ipcRenderer.invoke(channel, arg))) as Envelope;
  if (envelope.ok) return envelope.value as never;
  throw { code: envelope.error.code, message: envelope.error.message };
}

/** Push subscriptions: the listener gets only the payload, never the IpcRendererEvent (it exposes the sender). */
function subscribe<T>(channel: string, listener: (value: T) => void): () => void {
  const handler = (_event: unknown, value: T) => listener(value);
  ipcRenderer.on(channel, handler);
  return () => void ipcRenderer.removeListener(channel, handler);
}

const api: Api = {
  status: () => invoke('portsentry:status'),
  listEvents: (params) => invoke('portsentry:events.list', params),
  listBlocks: () => invoke('portsentry:blocks.list'),
  block: (params) => invoke('portsentry:block', params),
  unblock: (params) => invoke('portsentry:unblock', params),
  listIgnored: () => invoke('portsentry:ignore.list'),
  addIgnored: (params) => invoke('portsentry:ignore.add', params),
  removeIgnored: (params) => invoke('portsentry:ignore.remove', params),
  getConfig: () => invoke('portsentry:config.get'),
  setConfig: (params) => invoke('portsentry:config.set', params),
  pause: (params) => invoke('portsentry:pause', params),
  stats: (params) => invoke('portsentry:stats', params),
  copyAddress: (address) => invoke('portsentry:clipboard.copy-address', address),
  helperSetup: () => invoke('portsentry:helper.setup'),
  fixHelper: (action) => invoke('portsentry:helper.fix', action),
  resume: () => invoke('portsentry:resume'),
  getPreferences: () => invoke('portsentry:preferences.get'),
  setPreferences: (changes) => invoke('portsentry:preferences.set', changes),
  onEvent: (listener) => subscribe('portsentry:event', listener),
  onHelperState: (listener) => subscribe('portsentry:helper-state', listener),
  onFocusEvent: (listener) => subscribe('portsentry:focus-event', listener),
};

contextBridge.exposeInMainWorld('portsentry', api);
