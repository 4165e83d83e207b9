// The one API the renderer sees (window.portsentry), exposed by main/electron/preload.cts
// through contextBridge. Every call is forwarded by the main process to the helper after
// validation; the renderer has no Node and no other way out. Tests bind the same interface
// to a real helper over a local bridge, so the renderer runs unchanged in plain Chromium.

import type { ParamsOf, ResultOf } from './protocol/methods.js';
import type { StoredEvent } from './protocol/schemas.js';

/** What the app knows about its helper right now. */
export type HelperState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected'; readonly paused: boolean; /** When a timed pause ends by itself. */ readonly pausedUntil?: number | null }
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

/**
 * The helper as the first-run view sees it: what is wrong, in words, and the one action
 * that fixes it (main/helper-setup.ts decides; main carries the action out after consent).
 */
export type HelperSetupState = 'connecting' | 'running' | 'not-installed' | 'not-running' | 'permission-denied' | 'needs-relogin' | 'unreachable';
export type HelperFix = 'install' | 'start' | 'join-group' | 'log-out' | 'retry';
export interface HelperSetup {
  readonly state: HelperSetupState;
  readonly title: string;
  readonly detail: string;
  /** The one thing to do; null when nothing needs doing (running) or nothing can be done here. */
  readonly action: { readonly id: HelperFix; readonly label: string; readonly elevated: boolean } | null;
}
export type HelperFixResult = { readonly done: true; readonly message: string } | { readonly done: false; readonly message: string };

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
  pause(params?: ParamsOf<'pause'>): Promise<ResultOf<'pause'>>;
  stats(params: ParamsOf<'stats'>): Promise<ResultOf<'stats'>>;
  /** Copies one address (or address/prefix) to the clipboard; main validates it. */
  copyAddress(address: string): Promise<void>;
  /** What is wrong with the helper, if anything, and the action that fixes it. */
  helperSetup(): Promise<HelperSetup>;
  /** Runs a fix; anything needing root asks the user first (consent dialog, then the system's password prompt). */
  fixHelper(action: HelperFix): Promise<HelperFixResult>;
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
