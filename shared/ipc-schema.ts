// The whole renderer <-> main API, declared once, in the manner of Mullvad's ipc-schema.ts:
// each entry is a request the renderer invokes (its channel, params schema and result
// schema; a helper method main forwards as it is takes the helper protocol's own schemas) or
// a push main sends (its channel and payload schema). Everything else is derived from this
// table: the renderer's typed client (PortSentryApi, shared/desktop-api.ts), the preload's
// window.portsentry (main/electron/preload.cts, generic over the manifest that
// scripts/build-preload.mjs writes into it from this table), main's handler registration
// and validation of every argument (main/ipc-handlers.ts, main/ipc-validation.ts), and the
// test bridge (test/support/renderer-bridge.ts). test/shared/ipc-schema.test.ts adds an
// entry and checks it shows up in each of them.

import { z } from 'zod';
import { preferenceChangesSchema, guiPreferencesSchema } from './gui-preferences.js';
import { methods, type MethodName } from './protocol/methods.js';
import { addressSchema, epochMsSchema, ignoreEntrySchema, scanRecordSchema, storedEventSchema } from './protocol/schemas.js';

// ---------------------------------------------------------------------------------------
// Entry kinds

/** A request: renderer -> main with ipcRenderer.invoke, answered with an envelope. */
export interface InvokeEntry<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly kind: 'invoke';
  readonly channel: string;
  /** The one argument the renderer may send; main validates it before anything is done. */
  readonly params: P;
  readonly result: R;
  /** The helper method main forwards it to; null when main answers it itself. */
  readonly helper: MethodName | null;
}

/** A push: main -> renderer with webContents.send; the page's listener gets only the payload. */
export interface NotifyEntry<T extends z.ZodType = z.ZodType> {
  readonly kind: 'notify';
  readonly channel: string;
  readonly payload: T;
}

export type IpcEntry = InvokeEntry | NotifyEntry;

/** Every channel is ours: a fixed prefix, then lower-case words. */
const CHANNEL = /^portsentry:[a-z][a-z.-]*$/;

function checked(channel: string): string {
  if (!CHANNEL.test(channel)) throw new Error(`IPC channel ${channel} is not portsentry:<name>`);
  return channel;
}

/** A helper method, forwarded by main with the helper protocol's own params and result schemas. */
function helper<M extends MethodName>(method: M): InvokeEntry<(typeof methods)[M]['params'], (typeof methods)[M]['result']> & { readonly helper: M } {
  return { kind: 'invoke', channel: checked(`portsentry:${method}`), params: methods[method].params, result: methods[method].result, helper: method };
}

/** A request main answers itself. */
function invoke<P extends z.ZodType, R extends z.ZodType>(channel: string, params: P, result: R): InvokeEntry<P, R> & { readonly helper: null } {
  return { kind: 'invoke', channel: checked(channel), params, result, helper: null };
}

function notify<T extends z.ZodType>(channel: string, payload: T): NotifyEntry<T> {
  return { kind: 'notify', channel: checked(channel), payload };
}

// ---------------------------------------------------------------------------------------
// What main answers itself, and what it pushes

/** What the app knows about its helper right now. */
export const helperStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('connecting') }),
  z.strictObject({
    kind: z.literal('connected'),
    paused: z.boolean(),
    /** When a timed pause ends by itself. */
    pausedUntil: epochMsSchema.nullable().optional(),
    /** Why the helper blocks nobody (blocking off, everything ignored, paused); null when it protects. */
    notProtecting: z.string().nullable().optional(),
    /** Why the kernel does not hold what the helper believes (a degraded firewall); null when in sync. */
    degraded: z.string().nullable().optional(),
  }),
  z.strictObject({ kind: z.literal('unreachable'), reason: z.enum(['not-running', 'permission-denied', 'disconnected', 'timeout', 'protocol']), message: z.string() }),
]);

/**
 * The helper as the first-run view sees it: what is wrong, in words, and the one action
 * that fixes it (main/helper-setup.ts decides; main carries the action out after consent).
 */
export const helperSetupStateSchema = z.enum(['connecting', 'running', 'not-installed', 'not-running', 'permission-denied', 'needs-relogin', 'unreachable']);
/** The fixes a page may ask for: a closed list, so a page cannot name a program to run as root. */
export const helperFixSchema = z.enum(['install', 'start', 'join-group', 'log-out', 'retry']);
export const helperSetupSchema = z.strictObject({
  state: helperSetupStateSchema,
  title: z.string(),
  detail: z.string(),
  /** The one thing to do; null when nothing needs doing (running) or nothing can be done here. */
  action: z.strictObject({ id: helperFixSchema, label: z.string(), elevated: z.boolean() }).nullable(),
  /** No graphical password prompt here: the exact command the action runs, for the user to run in a terminal. */
  command: z.string().optional(),
});
export const helperFixResultSchema = z.strictObject({ done: z.boolean(), message: z.string() });

/** Addresses one network-owner lookup may ask about (main/network-owner.ts MAX_LOOKUPS_PER_CALL). */
export const MAX_NETWORK_LOOKUPS = 64;
/** Who a scanner is, offline: country and network owner, or "private network". */
export const networkOwnerSchema = z.strictObject({
  address: addressSchema,
  private: z.boolean(),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .nullable(),
  asn: z.int().min(1).max(4_294_967_295).nullable(),
  org: z.string().max(200).nullable(),
});

/** A request that takes no argument. */
const nothing = z.undefined();

// ---------------------------------------------------------------------------------------
// The table

export const ipcSchema = {
  // The helper's methods, as the helper protocol declares them.
  status: helper('status'),
  listEvents: helper('events.list'),
  listBlocks: helper('blocks.list'),
  block: helper('block'),
  unblock: helper('unblock'),
  listIgnored: helper('ignore.list'),
  addIgnored: helper('ignore.add'),
  removeIgnored: helper('ignore.remove'),
  /** Undo of addIgnored: removes the entry and puts back the blocks it lifted. */
  undoIgnored: helper('ignore.undo'),
  getConfig: helper('config.get'),
  setConfig: helper('config.set'),
  pause: helper('pause'),
  resume: helper('resume'),
  stats: helper('stats'),
  /** One record per scan; the dashboard folds them into one row per scanner. */
  listScans: helper('scans.list'),

  // Main's own answers.
  getPreferences: invoke('portsentry:preferences.get', nothing, guiPreferencesSchema),
  setPreferences: invoke('portsentry:preferences.set', preferenceChangesSchema, guiPreferencesSchema),
  /** Copies one address (or address/prefix) to the clipboard: a page cannot plant a command there. */
  copyAddress: invoke('portsentry:clipboard.copy-address', ignoreEntrySchema, z.void()),
  /** What is wrong with the helper, if anything, and the action that fixes it. */
  helperSetup: invoke('portsentry:helper.setup', nothing, helperSetupSchema),
  /** Runs a fix; anything needing root asks the user first (consent dialog, then the system's password prompt). */
  fixHelper: invoke('portsentry:helper.fix', helperFixSchema, helperFixResultSchema),
  /** Country and network owner of up to MAX_NETWORK_LOOKUPS addresses, from main's offline databases. */
  lookupNetworks: invoke('portsentry:network.lookup', z.array(addressSchema).min(1).max(MAX_NETWORK_LOOKUPS), z.array(networkOwnerSchema).max(MAX_NETWORK_LOOKUPS)),

  // Main -> renderer.
  /** New events and block changes as they happen. */
  onEvent: notify('portsentry:event', storedEventSchema),
  onHelperState: notify('portsentry:helper-state', helperStateSchema),
  /** A scan record that changed (the helper writes them once a tick, after the probes' events). */
  onScan: notify('portsentry:scan', scanRecordSchema),
  /** Main asks a window to show one event (a notification was clicked). */
  onFocusEvent: notify('portsentry:focus-event', z.int().min(1)),
} as const;

export type IpcSchema = typeof ipcSchema;
export type ApiMethod = keyof IpcSchema;
export type InvokeMethod = { [K in ApiMethod]: IpcSchema[K] extends InvokeEntry ? K : never }[ApiMethod];
export type NotifyMethod = Exclude<ApiMethod, InvokeMethod>;
/** Requests main answers itself (it must implement each; main/ipc-handlers.ts). */
export type LocalMethod = { [K in InvokeMethod]: IpcSchema[K] extends { readonly helper: null } ? K : never }[InvokeMethod];

/** What the renderer passes (defaults may be left out). */
export type ParamsOf<K extends InvokeMethod> = z.input<IpcSchema[K]['params']>;
/** What main acts on after validation (defaults filled in, addresses canonical). */
export type ParsedParamsOf<K extends InvokeMethod> = z.output<IpcSchema[K]['params']>;
export type ResultOf<K extends InvokeMethod> = z.output<IpcSchema[K]['result']>;
export type PayloadOf<K extends NotifyMethod> = IpcSchema[K] extends NotifyEntry<infer T> ? z.output<T> : never;

/** No argument, an optional one (nothing required in it), or a required one. */
type Arguments<P> = [P] extends [undefined] ? [] : undefined extends P ? [params?: P] : Record<never, never> extends P ? [params?: P] : [params: P];

/** The client a schema gives the renderer: a method per request, a listener registration per push. */
export type RendererApi<S> = {
  readonly [K in keyof S]: S[K] extends InvokeEntry<infer P, infer R>
    ? (...args: Arguments<z.input<P>>) => Promise<z.output<R>>
    : S[K] extends NotifyEntry<infer T>
      ? /** Returns an unsubscribe function. */ (listener: (payload: z.output<T>) => void) => () => void
      : never;
};

// ---------------------------------------------------------------------------------------
// Derived lists

const entries = Object.entries(ipcSchema) as [ApiMethod, IpcEntry][];

/** Every request channel main handles, and the method each belongs to. */
export const INVOKE_CHANNELS: ReadonlyMap<string, InvokeMethod> = new Map(entries.filter(([, entry]) => entry.kind === 'invoke').map(([name, entry]) => [entry.channel, name as InvokeMethod]));
/** Every push channel, by method. */
export const NOTIFY_CHANNELS: ReadonlyMap<NotifyMethod, string> = new Map(entries.filter(([, entry]) => entry.kind === 'notify').map(([name, entry]) => [name as NotifyMethod, entry.channel]));

/**
 * What the sandboxed preload needs of the table: names and channels, plain data. The preload
 * cannot load this module (a sandboxed preload's require knows only 'electron' and a few
 * built-ins), so scripts/build-preload.mjs writes this into the compiled preload.
 */
export interface PreloadManifest {
  readonly invoke: readonly (readonly [name: string, channel: string])[];
  readonly notify: readonly (readonly [name: string, channel: string])[];
}

export function preloadManifest(schema: Readonly<Record<string, IpcEntry>> = ipcSchema): PreloadManifest {
  const all = Object.entries(schema);
  return {
    invoke: all.filter(([, entry]) => entry.kind === 'invoke').map(([name, entry]) => [name, entry.channel] as const),
    notify: all.filter(([, entry]) => entry.kind === 'notify').map(([name, entry]) => [name, entry.channel] as const),
  };
}

/**
 * Checks the one argument of a request against the table. A helper method's params may be
 * left out, meaning {} (the helper's own rule); anything else must match the schema exactly.
 */
export function parseParams<K extends InvokeMethod>(method: K, argument: unknown): { success: true; data: ParsedParamsOf<K> } | { success: false; error: z.ZodError } {
  const entry: InvokeEntry = ipcSchema[method];
  const parsed = entry.params.safeParse(argument === undefined && entry.helper !== null ? {} : argument);
  return parsed.success ? { success: true, data: parsed.data as ParsedParamsOf<K> } : { success: false, error: parsed.error };
}
