// The one API the renderer sees (window.portsentry), exposed by main/electron/preload.cts
// through contextBridge. Every call is validated by the main process and then forwarded to
// the helper or answered by main; the renderer has no Node and no other way out. Tests bind
// the same interface to a real helper over a local bridge, so the renderer runs unchanged in
// plain Chromium. The API itself is declared in shared/ipc-schema.ts; this module names its
// types for the renderer (type-only: the pages load nothing of zod) and holds the one
// constant they need.

import type { z } from 'zod';
import type { helperFixResultSchema, helperFixSchema, helperSetupSchema, helperSetupStateSchema, helperStateSchema, IpcSchema, RendererApi } from './ipc-schema.js';

export type { GuiPreferences } from './gui-preferences.js';

/** window.portsentry: derived from the IPC table, so the page's calls are typed as main checks them. */
export type PortSentryApi = RendererApi<IpcSchema>;

/** What the app knows about its helper right now. */
export type HelperState = z.output<typeof helperStateSchema>;
export type HelperSetupState = z.output<typeof helperSetupStateSchema>;
export type HelperFix = z.output<typeof helperFixSchema>;
/** What is wrong with the helper, in words, and the one action that fixes it. */
export type HelperSetup = z.output<typeof helperSetupSchema>;
export type HelperFixResult = z.output<typeof helperFixResultSchema>;

/**
 * Errors cross the bridge as plain objects: { code, message } with the helper's JSON-RPC
 * code (see shared/protocol/json-rpc.ts ErrorCode) or APP_UNAVAILABLE when it is unreachable.
 */
export interface ApiError {
  readonly code: number;
  readonly message: string;
}
export const APP_UNAVAILABLE = -32099;
