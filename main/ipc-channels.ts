// The fixed set of IPC channels between the renderer (through main/electron/preload.cts) and main. Requests
// go renderer -> main with ipcRenderer.invoke; pushes go main -> renderer with webContents.send.
// preload.cts cannot import this file (a sandboxed preload loads no local modules), so it
// repeats the names; test/main/ipc-validation.test.ts checks the two lists are identical.

import type { MethodName } from '../shared/protocol/methods.js';

/** Renderer -> main requests that the main process forwards to the helper, by helper method. */
export const HELPER_CHANNELS = {
  'portsentry:status': 'status',
  'portsentry:events.list': 'events.list',
  'portsentry:blocks.list': 'blocks.list',
  'portsentry:block': 'block',
  'portsentry:unblock': 'unblock',
  'portsentry:ignore.list': 'ignore.list',
  'portsentry:ignore.add': 'ignore.add',
  'portsentry:ignore.remove': 'ignore.remove',
  'portsentry:config.get': 'config.get',
  'portsentry:config.set': 'config.set',
  'portsentry:pause': 'pause',
  'portsentry:resume': 'resume',
  'portsentry:stats': 'stats',
} as const satisfies Record<string, MethodName>;

/** Renderer -> main requests the main process answers itself. */
export const LOCAL_CHANNELS = {
  getPreferences: 'portsentry:preferences.get',
  setPreferences: 'portsentry:preferences.set',
  copyAddress: 'portsentry:clipboard.copy-address',
  helperSetup: 'portsentry:helper.setup',
  fixHelper: 'portsentry:helper.fix',
} as const;

/** Main -> renderer pushes. */
export const PUSH_CHANNELS = {
  event: 'portsentry:event',
  helperState: 'portsentry:helper-state',
  focusEvent: 'portsentry:focus-event',
} as const;

export type HelperChannel = keyof typeof HELPER_CHANNELS;
export type LocalChannel = (typeof LOCAL_CHANNELS)[keyof typeof LOCAL_CHANNELS];
export type RequestChannel = HelperChannel | LocalChannel;

export const REQUEST_CHANNELS: readonly RequestChannel[] = [...(Object.keys(HELPER_CHANNELS) as HelperChannel[]), ...Object.values(LOCAL_CHANNELS)];
