// The method table: one entry per RPC method, naming its params and result schemas. The
// server's dispatcher and the client's typed calls are both derived from this one object,
// so a method cannot exist on one side only. Each method also says who may call it:
// "operator" (members of the control group, on the operator socket, and root) or "admin"
// (root, on the admin socket only). config.set is open to operators, but per key: see
// shared/domain/config-keys.ts.

import type { z } from 'zod';
import * as s from './schemas.js';

export const methods = {
  status: { params: s.statusParamsSchema, result: s.statusResultSchema, access: 'operator' },
  version: { params: s.versionParamsSchema, result: s.versionResultSchema, access: 'operator' },
  'events.list': { params: s.eventsListParamsSchema, result: s.eventsListResultSchema, access: 'operator' },
  'events.subscribe': { params: s.eventsSubscribeParamsSchema, result: s.eventsSubscribeResultSchema, access: 'operator' },
  'blocks.list': { params: s.blocksListParamsSchema, result: s.blocksListResultSchema, access: 'operator' },
  'scans.list': { params: s.scansListParamsSchema, result: s.scansListResultSchema, access: 'operator' },
  block: { params: s.blockParamsSchema, result: s.blockResultSchema, access: 'operator' },
  unblock: { params: s.unblockParamsSchema, result: s.unblockResultSchema, access: 'operator' },
  'ignore.list': { params: s.ignoreListParamsSchema, result: s.ignoreListResultSchema, access: 'operator' },
  'ignore.add': { params: s.ignoreAddParamsSchema, result: s.ignoreAddResultSchema, access: 'operator' },
  'ignore.remove': { params: s.ignoreRemoveParamsSchema, result: s.ignoreRemoveResultSchema, access: 'operator' },
  'ignore.undo': { params: s.ignoreUndoParamsSchema, result: s.ignoreUndoResultSchema, access: 'operator' },
  'config.get': { params: s.configGetParamsSchema, result: s.configGetResultSchema, access: 'operator' },
  'config.set': { params: s.configSetParamsSchema, result: s.configSetResultSchema, access: 'operator' },
  pause: { params: s.pauseParamsSchema, result: s.pausedStateResultSchema, access: 'operator' },
  resume: { params: s.resumeParamsSchema, result: s.pausedStateResultSchema, access: 'operator' },
  stats: { params: s.statsParamsSchema, result: s.statsResultSchema, access: 'operator' },
} as const;

/** Notifications the helper sends (server -> client); clients send none. */
export const notifications = {
  event: { params: s.eventNotificationParamsSchema },
  /** A scan record that changed (the whole record, not a delta); sent to the same subscribers as events. */
  scan: { params: s.scanNotificationParamsSchema },
  /** Whether this host is protected, each time that changes; sent to the same subscribers. */
  protection: { params: s.protectionNotificationParamsSchema },
} as const;

/** Who may call a method; the socket a connection came in on decides which the caller is. */
export type MethodAccess = 'operator' | 'admin';
methods satisfies Record<string, { readonly access: MethodAccess }>;

export type MethodTable = typeof methods;
export type MethodName = keyof MethodTable;
/** What a caller passes (defaults may be left out). */
export type ParamsOf<M extends MethodName> = z.input<MethodTable[M]['params']>;
/** What a handler receives after validation (defaults filled in, addresses canonical). */
export type ParsedParamsOf<M extends MethodName> = z.output<MethodTable[M]['params']>;
export type ResultOf<M extends MethodName> = z.output<MethodTable[M]['result']>;

export type NotificationName = keyof typeof notifications;
export type NotificationParamsOf<N extends NotificationName> = z.output<(typeof notifications)[N]['params']>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];

/** Own-property lookup, so "constructor", "__proto__" or "toString" are never mistaken for methods. */
export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}

export function isNotificationName(name: string): name is NotificationName {
  return Object.hasOwn(notifications, name);
}
