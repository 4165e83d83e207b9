// The method table: one entry per RPC method, naming its params and result schemas. The
// server's dispatcher and the client's typed calls are both derived from this one object,
// so a method cannot exist on one side only.

import type { z } from 'zod';
import * as s from './schemas.js';

export const methods = {
  status: { params: s.statusParamsSchema, result: s.statusResultSchema },
  version: { params: s.versionParamsSchema, result: s.versionResultSchema },
  'events.list': { params: s.eventsListParamsSchema, result: s.eventsListResultSchema },
  'events.subscribe': { params: s.eventsSubscribeParamsSchema, result: s.eventsSubscribeResultSchema },
  'blocks.list': { params: s.blocksListParamsSchema, result: s.blocksListResultSchema },
  block: { params: s.blockParamsSchema, result: s.blockResultSchema },
  unblock: { params: s.unblockParamsSchema, result: s.unblockResultSchema },
  'ignore.list': { params: s.ignoreListParamsSchema, result: s.ignoreListResultSchema },
  'ignore.add': { params: s.ignoreAddParamsSchema, result: s.ignoreAddResultSchema },
  'ignore.remove': { params: s.ignoreRemoveParamsSchema, result: s.ignoreRemoveResultSchema },
  'config.get': { params: s.configGetParamsSchema, result: s.configGetResultSchema },
  'config.set': { params: s.configSetParamsSchema, result: s.configSetResultSchema },
  pause: { params: s.pauseParamsSchema, result: s.pausedStateResultSchema },
  resume: { params: s.resumeParamsSchema, result: s.pausedStateResultSchema },
  stats: { params: s.statsParamsSchema, result: s.statsResultSchema },
} as const;

/** Notifications the helper sends (server -> client); clients send none. */
export const notifications = {
  event: { params: s.eventNotificationParamsSchema },
} as const;

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
