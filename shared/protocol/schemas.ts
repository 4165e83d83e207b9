// Zod schemas for every message on the helper's IPC channel. The helper runs as root and
// this channel is its attack surface, so every schema is closed (strict objects, no extra
// keys), every string is bounded, and every address goes through shared/domain/address.ts so only
// its canonical form ever reaches the daemon. The event schemas mirror the daemon's own
// plain TypeScript types; the checks at the bottom of this file break the build if the two drift.

import { z } from 'zod';
import { parseAddress } from '../domain/address.js';
import { ALL_SCAN_KINDS, type AddressFamily, type Mode, type Protocol, type ScanKind } from '../domain/types.js';
import { parseIgnoreEntry } from '../domain/ignore-entry.js';
import type { BlockBackendName } from '../domain/config-keys.js';
import { parseBlockTarget } from '../domain/block-target.js';
import { MAX_RECORD_PORTS, type ScanRecord } from '../domain/scan-record.js';
import type { BlockChangeEvent, DetectionAction, DetectionEvent, FleetOrigin, HelperEvent } from '../domain/detection-event.js';

// ---------------------------------------------------------------------------------------
// Building blocks

/** The latest instant a JS Date can hold; anything beyond is not a real timestamp. */
const MAX_EPOCH_MS = 8_640_000_000_000_000;
/** One year: the longest timed block the helper accepts. */
export const MAX_BLOCK_TIMEOUT_SECONDS = 31_536_000;
export const MAX_EVENTS_PER_PAGE = 1000;
export const DEFAULT_EVENTS_PER_PAGE = 100;
/** Text a user types (block reasons, ignore comments). */
export const MAX_USER_TEXT = 200;
/** Text the helper writes itself (event reasons, firewall errors); still bounded. */
export const MAX_HELPER_TEXT = 1024;
/** Scan records one `scans.list` call returns at most. */
export const MAX_SCANS_PER_PAGE = 1000;
export const MAX_CONFIG_VALUE = 4096;

/** Milliseconds since the epoch. */
export const epochMsSchema = z.int().min(0).max(MAX_EPOCH_MS);

/** A destination port. */
export const portSchema = z.int().min(1).max(65535);

/** Store ids of events; also the paging cursor. */
export const eventIdSchema = z.int().min(1);

/**
 * Free text that ends up in log lines, the ignore file and syslog: control characters
 * (a newline above all) could forge extra lines there, so they are refused outright.
 */
export function textSchema(max: number) {
  return z
    .string()
    .max(max)
    .refine((text) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text), 'must not contain control characters or line breaks');
}

/**
 * An IPv4 or IPv6 address, returned in canonical form. Hostnames, zone ids (`%eth0`),
 * CIDR suffixes, whitespace and shell syntax are all rejected by parseAddress.
 */
export const addressSchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const parsed = parseAddress(text);
    if (parsed === null) {
      ctx.addIssue({ code: 'custom', message: 'not an IPv4 or IPv6 address', input: text });
      return z.NEVER;
    }
    return parsed.address;
  });

/**
 * What a block covers: an IPv4 or IPv6 address, or a CIDR prefix ("198.18.0.0/24",
 * "fd00:5e::/64"), in canonical form (the bare address for a single host). Host bits set
 * under the prefix are refused, not cleared.
 */
export const addressOrPrefixSchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const parsed = parseBlockTarget(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed, input: text });
      return z.NEVER;
    }
    return parsed.text;
  });

/**
 * An ignore-list entry: a single address or address/prefix (IPv4 or IPv6). Canonical
 * form: the canonical address, plus `/prefix` unless the prefix covers exactly one host.
 */
export const ignoreEntrySchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const parsed = parseIgnoreEntry(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed, input: text });
      return z.NEVER;
    }
    const hostPrefix = parsed.family === 4 ? 32 : 128;
    return parsed.prefix === hostPrefix ? parsed.address : `${parsed.address}/${parsed.prefix}`;
  });

/**
 * The shape of a portsentry.conf key name (upper case, digits, underscores; IPV6 has a
 * digit). Whether the key exists, and who may change it, the helper decides from the key table.
 */
export const configKeySchema = z.string().regex(/^[A-Z][A-Z0-9_]{0,39}$/, 'must be a KEY_NAME (A-Z, 0-9, _; at most 40)');

/**
 * A config value as it will be written between double quotes in portsentry.conf: printable
 * ASCII only (what conf-file.ts accepts) and no double quote, which the file format cannot escape.
 */
export const configValueSchema = z
  .string()
  .max(MAX_CONFIG_VALUE)
  .regex(/^[\x20\x21\x23-\x7e]*$/, 'must be printable ASCII without double quotes or line breaks');

export const protocolSchema = z.enum(['tcp', 'udp']);
export const modeSchema = z.enum(['tcp', 'udp', 'stcp', 'sudp', 'atcp', 'audp']);
export const scanKindSchema = z.enum(ALL_SCAN_KINDS);
export const addressFamilySchema = z.literal([4, 6]);
export const detectionActionSchema = z.enum(['blocked', 'already-blocked', 'ignored', 'counted', 'alert-only', 'block-failed', 'rate-limited']);
export const blockBackendSchema = z.enum(['nftables', 'pf', 'windows-firewall', 'command', 'none']);
/** Root on the admin socket, or a member of the control group on the operator socket. */
export const callerRoleSchema = z.enum(['admin', 'operator']);

/** Params of methods that take none. `{}` (or params left out) and nothing else. */
export const noParamsSchema = z.strictObject({});

// ---------------------------------------------------------------------------------------
// Events (what the daemon emits; see shared/domain/detection-event.ts)

export const detectionEventSchema = z.strictObject({
  type: z.literal('scan'),
  at: epochMsSchema,
  source: addressSchema,
  family: addressFamilySchema,
  port: portSchema,
  protocol: protocolSchema,
  kind: scanKindSchema,
  mode: modeSchema,
  action: detectionActionSchema,
  reason: textSchema(MAX_HELPER_TEXT).optional(),
  // The daemon keeps reverse names to hostname characters; hold the client to the same.
  resolvedName: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}$/)
    .optional(),
});

/** A CrowdSec machine name or scenario as the fleet reports it: bounded, plain characters. */
const fleetNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._@:/-]+$/, 'must be a machine or scenario name');

/** Where a block from the fleet came from (see privileged-helper/fleet/). */
export const fleetOriginSchema = z.strictObject({ machine: fleetNameSchema, scenario: fleetNameSchema });

export const blockChangeEventSchema = z.strictObject({
  type: z.literal('block'),
  change: z.enum(['added', 'removed']),
  at: epochMsSchema,
  address: addressOrPrefixSchema,
  reason: textSchema(MAX_HELPER_TEXT),
  until: epochMsSchema.nullable(),
  fleet: fleetOriginSchema.optional(),
});

export const helperEventSchema = z.discriminatedUnion('type', [detectionEventSchema, blockChangeEventSchema]);

/** An event as stored and served: the daemon's event plus the store's id. */
export const storedEventSchema = z.discriminatedUnion('type', [detectionEventSchema.extend({ id: eventIdSchema }), blockChangeEventSchema.extend({ id: eventIdSchema })]);

/** Params of the `event` notification the helper sends after events.subscribe. */
export const eventNotificationParamsSchema = storedEventSchema;

// ---------------------------------------------------------------------------------------
// Methods: params and results

export const statusParamsSchema = noParamsSchema;
export const statusResultSchema = z.strictObject({
  version: z.string().min(1).max(64),
  running: z.boolean(),
  paused: z.boolean(),
  modes: z.array(modeSchema).max(6),
  /** Where `modes` came from: portsentryd's mode flags (which win) or the MODES setting. */
  modesFrom: z.enum(['command-line', 'config']).optional(),
  uptimeSeconds: z
    .number()
    .min(0)
    .max(MAX_EPOCH_MS / 1000),
  blockedCount: z.int().min(0),
  eventsStored: z.int().min(0),
  captureActive: z.boolean(),
  /** Configured tripwire ports not watched because another program holds them (the port is its). */
  portsInUseByOthers: z.strictObject({ tcp: z.array(portSchema).max(65_535), udp: z.array(portSchema).max(65_535) }).optional(),
  backend: blockBackendSchema,
  /** What this connection may do: decided by the socket it came in on, never by the caller. */
  role: callerRoleSchema,
  /** Present when the host is configured for a fleet (CrowdSec LAPI URL set). */
  fleet: z
    .strictObject({
      /** FLEET_SHARING: the operator's switch. */
      sharing: z.boolean(),
      /** Sending this host's blocks (machine credentials set) / receiving the fleet's (bouncer key set). */
      pushing: z.boolean(),
      pulling: z.boolean(),
      /** Whether the last exchange with the LAPI worked; null before the first. */
      connected: z.boolean().nullable(),
      lastContactAt: epochMsSchema.nullable(),
      lastError: textSchema(MAX_HELPER_TEXT).nullable(),
      /** Alerts waiting to be sent (the LAPI down), sent so far, dropped because the queue was full. */
      queued: z.int().min(0),
      sent: z.int().min(0),
      dropped: z.int().min(0),
      /** Blocks held here because the fleet asked. */
      fleetBlocks: z.int().min(0),
      /** Fleet bans not applied: protected or ignored addresses, ranges, malformed entries. */
      refused: z.int().min(0),
    })
    .optional(),
  /** Where Prometheus scrapes, when the endpoint is on. */
  metrics: z.strictObject({ address: z.string().max(64), port: portSchema }).optional(),
  /**
   * Whether the kernel holds what the helper believes (the firewall owner's last check or
   * change): `inSync` false is "degraded", with `problem` saying why; `repairs` counts the
   * times the kernel was put back after another program changed it. Absent without a firewall.
   */
  firewall: z.strictObject({ inSync: z.boolean(), problem: textSchema(MAX_HELPER_TEXT).nullable(), repairs: z.int().min(0) }).optional(),
  /** False when nothing is being blocked at all (paused, blocking off, everything ignored), with why. */
  protecting: z.boolean().optional(),
  notProtectingReason: textSchema(MAX_HELPER_TEXT).nullable().optional(),
  /** When a timed pause ends by itself; null or absent = not paused, or paused until resumed. */
  pausedUntil: epochMsSchema.nullable().optional(),
  /** Whether the event store works; when not (degraded), why, naming the file. Detection goes on either way. */
  store: z.strictObject({ ok: z.boolean(), problem: textSchema(MAX_HELPER_TEXT).nullable() }).optional(),
});

/** Bumped when a change to this protocol would break an older client. */
export const PROTOCOL_VERSION = 1;
export const versionParamsSchema = noParamsSchema;
export const versionResultSchema = z.strictObject({
  version: z.string().min(1).max(64),
  protocolVersion: z.int().min(1),
});

export const eventsListParamsSchema = z
  .strictObject({
    since: epochMsSchema.optional(),
    until: epochMsSchema.optional(),
    host: addressSchema.optional(),
    port: portSchema.optional(),
    kind: scanKindSchema.optional(),
    protocol: protocolSchema.optional(),
    action: detectionActionSchema.optional(),
    limit: z.int().min(1).max(MAX_EVENTS_PER_PAGE).default(DEFAULT_EVENTS_PER_PAGE),
    /** Only events with an id below this one (the previous page's nextCursor). */
    before: eventIdSchema.optional(),
  })
  .refine((p) => p.since === undefined || p.until === undefined || p.since <= p.until, {
    message: 'since must not be after until',
    path: ['since'],
  });
export const eventsListResultSchema = z.strictObject({
  events: z.array(storedEventSchema).max(MAX_EVENTS_PER_PAGE),
  /** Pass as `before` for the next (older) page; null when there is none. */
  nextCursor: eventIdSchema.nullable(),
});

export const eventsSubscribeParamsSchema = noParamsSchema;
export const eventsSubscribeResultSchema = z.strictObject({ subscribed: z.literal(true) });

export const blockEntrySchema = z.strictObject({
  address: addressOrPrefixSchema,
  since: epochMsSchema,
  /** When the block lapses; null = until unblocked. */
  until: epochMsSchema.nullable(),
  reason: textSchema(MAX_HELPER_TEXT),
  /** Set when the block came from the fleet. */
  fleet: fleetOriginSchema.optional(),
});
export const blocksListParamsSchema = noParamsSchema;
export const blocksListResultSchema = z.strictObject({ blocks: z.array(blockEntrySchema) });

/** One record per scan (shared/domain/scan-record.ts): what `scans.list` returns. */
export const scanRecordSchema = z.strictObject({
  id: textSchema(MAX_HELPER_TEXT),
  scanner: addressOrPrefixSchema,
  family: addressFamilySchema,
  firstProbe: epochMsSchema,
  lastProbe: epochMsSchema,
  ports: z.strictObject({ tcp: z.array(portSchema).max(MAX_RECORD_PORTS), udp: z.array(portSchema).max(MAX_RECORD_PORTS) }),
  kinds: z.array(scanKindSchema).max(scanKindSchema.options.length),
  protocols: z.array(protocolSchema).max(2),
  probes: z.int().min(1),
  outcome: z.enum(['blocked', 'reported', 'watched']),
  reason: textSchema(MAX_HELPER_TEXT).optional(),
});
export const scansListParamsSchema = z.strictObject({ limit: z.int().min(1).max(MAX_SCANS_PER_PAGE).default(100) });
export const scansListResultSchema = z.strictObject({ scans: z.array(scanRecordSchema).max(MAX_SCANS_PER_PAGE) });
/** Params of the `scan` notification: a scan record that changed, pushed at most once a tick per record after events.subscribe. */
export const scanNotificationParamsSchema = scanRecordSchema;

/**
 * The part of `status` that says whether this host is protected (paused, protecting and why
 * not, the firewall in sync and why not): pushed to subscribers whenever it changes, so the
 * tray and the banner follow a change as it happens, not at the app's next status read.
 */
export const protectionNotificationParamsSchema = statusResultSchema.pick({ paused: true, pausedUntil: true, protecting: true, notProtectingReason: true, firewall: true });

export const blockParamsSchema = z.strictObject({
  address: addressOrPrefixSchema,
  reason: textSchema(MAX_USER_TEXT).optional(),
  /** 0 or left out = the configured BLOCK_TIMEOUT; see the daemon. */
  timeoutSeconds: z.int().min(0).max(MAX_BLOCK_TIMEOUT_SECONDS).optional(),
});
export const blockResultSchema = z.strictObject({
  address: addressOrPrefixSchema,
  until: epochMsSchema.nullable(),
});

export const unblockParamsSchema = z.strictObject({
  address: addressOrPrefixSchema,
  reason: textSchema(MAX_USER_TEXT).optional(),
});
export const unblockResultSchema = z.strictObject({
  address: addressOrPrefixSchema,
  /** False when the address was not blocked. */
  removed: z.boolean(),
});

export const ignoreListEntrySchema = z.strictObject({
  entry: ignoreEntrySchema,
  comment: textSchema(MAX_USER_TEXT).optional(),
  /** A timed entry ("allow for 1 hour"): when the helper removes it by itself. */
  until: epochMsSchema.optional(),
});
export const ignoreListParamsSchema = noParamsSchema;
export const ignoreListResultSchema = z.strictObject({ entries: z.array(ignoreListEntrySchema) });

export const ignoreAddParamsSchema = z.strictObject({
  entry: ignoreEntrySchema,
  comment: textSchema(MAX_USER_TEXT).optional(),
  /** Trust for this long only (allow for 1 hour, 1 day): the helper removes the entry itself. */
  durationSeconds: z.int().min(1).max(MAX_BLOCK_TIMEOUT_SECONDS).optional(),
});
/** At most this many blocks are lifted (and can be put back by ignore.undo) per ignore entry. */
export const MAX_LIFTED_BLOCKS = 1024;
export const ignoreAddResultSchema = z.strictObject({
  entry: ignoreEntrySchema,
  /** False when the entry was already in the list (for good, or until the same time). */
  added: z.boolean(),
  /** When the entry ends; null = it stays. */
  until: epochMsSchema.nullable().optional(),
  /** The blocks the entry covered, lifted (the kernel no longer holds them): what ignore.undo puts back. */
  lifted: z.array(blockEntrySchema).max(MAX_LIFTED_BLOCKS).optional(),
});

/** Undo of an ignore.add: the entry goes, and the blocks it lifted are put back with the time they had left. */
export const ignoreUndoParamsSchema = z.strictObject({
  entry: ignoreEntrySchema,
  reblock: z.array(blockEntrySchema).max(MAX_LIFTED_BLOCKS),
});
export const ignoreUndoResultSchema = z.strictObject({
  entry: ignoreEntrySchema,
  /** False when the entry was not in the list any more. */
  removed: z.boolean(),
  /** The blocks put back (a block whose time ran out meanwhile is not). */
  reblocked: z.array(addressOrPrefixSchema).max(MAX_LIFTED_BLOCKS),
});

export const ignoreRemoveParamsSchema = z.strictObject({ entry: ignoreEntrySchema });
export const ignoreRemoveResultSchema = z.strictObject({
  entry: ignoreEntrySchema,
  /** False when the entry was not in the list. */
  removed: z.boolean(),
});

export const configGetParamsSchema = noParamsSchema;
const configSourceSchema = z.string().min(1).max(4096);
export const configGetResultSchema = z.strictObject({
  /** The main config file as it is on disk. */
  text: z.string().max(1024 * 1024),
  /** Effective value of each key, as it would be written in the file. */
  values: z.record(configKeySchema, z.string().max(MAX_CONFIG_VALUE)),
  /** Where each key's value comes from: the main file, the operator settings file, or "default". */
  sources: z.record(configKeySchema, configSourceSchema),
  /** Root's config file (null: the embedded defaults), and the operator settings file (null: none). */
  mainFile: configSourceSchema.nullable(),
  operatorFile: configSourceSchema.nullable(),
});

export const configSetParamsSchema = z.strictObject({
  changes: z
    .record(configKeySchema, configValueSchema)
    .refine((changes) => Object.keys(changes).length >= 1, 'must change at least one key')
    .refine((changes) => Object.keys(changes).length <= 64, 'must change at most 64 keys'),
});
export const configSetResultSchema = z.strictObject({
  /** The keys whose value actually changed. */
  changed: z.array(configKeySchema),
});

/** The longest timed pause: one week. A longer one is "until resumed" (no duration). */
export const MAX_PAUSE_SECONDS = 604_800;
export const pauseParamsSchema = z.strictObject({
  /** Resume by itself after this many seconds; left out = paused until resumed. */
  durationSeconds: z.int().min(1).max(MAX_PAUSE_SECONDS).optional(),
});
export const resumeParamsSchema = noParamsSchema;
/** Result of both pause and resume: the state afterwards. */
export const pausedStateResultSchema = z.strictObject({
  paused: z.boolean(),
  /** When a timed pause ends; null = not paused or paused until resumed. */
  pausedUntil: epochMsSchema.nullable().optional(),
});

/** Bounds of the stats answer: whatever the store holds, the result stays small. */
export const MAX_STATS_BUCKETS = 240;
export const DEFAULT_STATS_BUCKETS = 60;
export const MAX_STATS_TOP = 10;
export const MAX_STATS_PORTS = 2048;
export const statsParamsSchema = z
  .strictObject({
    since: epochMsSchema.optional(),
    until: epochMsSchema.optional(),
    /** Only this scanner (the per-scanner view). */
    host: addressSchema.optional(),
    buckets: z.int().min(1).max(MAX_STATS_BUCKETS).default(DEFAULT_STATS_BUCKETS),
  })
  .refine((p) => p.since === undefined || p.until === undefined || p.since <= p.until, {
    message: 'since must not be after until',
    path: ['since'],
  });
const countSchema = z.int().min(0);
const portCountSchema = z.strictObject({ port: portSchema, protocol: protocolSchema, count: countSchema });
export const statsResultSchema = z.strictObject({
  /** The range the figures cover (since: the oldest scan in the store when none was asked for). */
  since: epochMsSchema,
  until: epochMsSchema,
  /** Scan events in the range, and distinct sources among them. */
  total: countSchema,
  sources: countSchema,
  firstSeen: epochMsSchema.nullable(),
  lastSeen: epochMsSchema.nullable(),
  /** Scans per step of bucketMs from since; every step is listed, empty ones with 0. */
  bucketMs: z.int().min(1),
  timeline: z.array(z.strictObject({ start: epochMsSchema, count: countSchema })).max(MAX_STATS_BUCKETS),
  topSources: z.array(z.strictObject({ address: addressSchema, count: countSchema })).max(MAX_STATS_TOP),
  topPorts: z.array(portCountSchema).max(MAX_STATS_TOP),
  kinds: z.array(z.strictObject({ kind: scanKindSchema, count: countSchema })).max(scanKindSchema.options.length),
  actions: z.array(z.strictObject({ action: detectionActionSchema, count: countSchema })).max(detectionActionSchema.options.length),
  /** Distinct ports touched, lowest first, at most MAX_STATS_PORTS of them; distinctPorts counts all. */
  ports: z.array(portCountSchema).max(MAX_STATS_PORTS),
  distinctPorts: countSchema,
});

// ---------------------------------------------------------------------------------------
// Inferred types: only those a module imports by name. Any other method's params and result
// types come from the method table (ParamsOf, ResultOf in methods.ts).

export type StoredEvent = z.infer<typeof storedEventSchema>;
export type StatusResult = z.infer<typeof statusResultSchema>;
export type CallerRole = z.infer<typeof callerRoleSchema>;
export type BlockEntry = z.infer<typeof blockEntrySchema>;
export type IgnoreListEntry = z.infer<typeof ignoreListEntrySchema>;
export type StatsResult = z.infer<typeof statsResultSchema>;

// ---------------------------------------------------------------------------------------
// Compile-time checks: the schemas must describe exactly the daemon's own types. If the
// daemon gains a field or a new enum member, one of these lines stops compiling.

/** True when each type is assignable to the other (readonly-ness aside, which JSON cannot carry). */
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Strict equality, for unions of literals where "assignable both ways" is not strong enough. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Same keys, and each assignable to the other: catches an optional field one side lacks. */
type SameShape<A, B> = MutuallyAssignable<A, B> extends true ? Equals<keyof A, keyof B> : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

assertType<MutuallyAssignable<z.infer<typeof helperEventSchema>, HelperEvent>>();
assertType<MutuallyAssignable<z.input<typeof helperEventSchema>, HelperEvent>>();
assertType<SameShape<z.infer<typeof detectionEventSchema>, DetectionEvent>>();
assertType<SameShape<z.infer<typeof blockChangeEventSchema>, BlockChangeEvent>>();
assertType<SameShape<Extract<z.infer<typeof helperEventSchema>, { type: 'scan' }>, Extract<HelperEvent, { type: 'scan' }>>>();
assertType<SameShape<Extract<z.infer<typeof helperEventSchema>, { type: 'block' }>, Extract<HelperEvent, { type: 'block' }>>>();
assertType<SameShape<z.infer<typeof fleetOriginSchema>, FleetOrigin>>();
assertType<MutuallyAssignable<z.infer<typeof scanRecordSchema>, ScanRecord>>();
assertType<Equals<z.infer<typeof protocolSchema>, Protocol>>();
assertType<Equals<z.infer<typeof modeSchema>, Mode>>();
assertType<Equals<z.infer<typeof scanKindSchema>, ScanKind>>();
assertType<Equals<z.infer<typeof addressFamilySchema>, AddressFamily>>();
assertType<Equals<z.infer<typeof detectionActionSchema>, DetectionAction>>();
assertType<Equals<z.infer<typeof blockBackendSchema>, BlockBackendName>>();
