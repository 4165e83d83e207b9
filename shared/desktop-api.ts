// The one API the renderer sees (window.portsentry), exposed by main/electron/preload.ts
// through contextBridge. Every call is forwarded by the main process to the helper after
// validation; the renderer has no Node and no other way out. Tests bind the same interface
// to a real helper over a local bridge, so the renderer runs unchanged in plain Chromium.

import type { ParamsOf, ResultOf } from './protocol/methods.js';
import type { StoredEvent } from './protocol/schemas.js';

/** What the app knows about its helper right now. */
export type HelperState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected'; readonly paused: boolean }
  | { readonly kind: 'unreachable'; readonly reason: 'not-running' | 'permission-denied' | 'disconnected' | 'timeout' | 'protocol'; readonly message: string };

/** GUI-only preferences (electron-store); the detection config is the helper's. */
export interface GuiPreferences {
  readonly theme: 'system' | 'light' | 'dark';
  readonly notifications: 'all' | 'blocks-only' | 'off';
  /** Quiet hours, local time "HH:MM"; equal start and end = none. */
  readonly quietStart: string;
  readonly quietEnd: string;
  readonly startAtLogin: boolean;
}

export interface PortSentryApi {
  status(): Promise<ResultOf<'status'>>;
  listEvents(params: ParamsOf<'events.list'>): Promise<ResultOf<'events.list'>>;
  listBlocks(): Promise<ResultOf<'blocks.list'>>;
  block(params: ParamsOf<'block'>): Promise<ResultOf<'block'>>;
  unblock(params: ParamsOf<'unblock'>): Promise<ResultOf<'unblock'>>;
  listIgnored(): Promise<ResultOf<'ignore.list'>>;
  addIgnored(params: ParamsOf<'ignore.add'>): Promise<ResultOf<'ignore.add'>>;
  removeIgnored(params: ParamsOf<'ignore.remove'>): Promise<ResultOf<'ignore.remove'>>;
  getConfig(): Promise<ResultOf<'config.get'>>;
  setConfig(params: ParamsOf<'config.set'>): Promise<ResultOf<'config.set'>>;
  pause(): Promise<ResultOf<'pause'>>;
  resume(): Promise<ResultOf<'resume'>>;
  getPreferences(): Promise<GuiPreferences>;
  setPreferences(changes: Partial<GuiPreferences>): Promise<GuiPreferences>;
  /** New events and block changes as they happen; returns an unsubscribe function. */
  onEvent(listener: (event: StoredEvent) => void): () => void;
  onHelperState(listener: (state: HelperState) => void): () => void;
  /** Main asks a window to show one event (a notification was clicked). */
  onFocusEvent(listener: (eventId: number) => void): () => void;
}

/**
 * Errors cross the bridge as plain objects: { code, message } with the helper's JSON-RPC
 * code (see shared/protocol/json-rpc.ts ErrorCode) or APP_UNAVAILABLE when it is unreachable.
 */
export interface ApiError {
  readonly code: number;
  readonly message: string;
}
export const APP_UNAVAILABLE = -32099;
