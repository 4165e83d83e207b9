// The helper's events as structured records, for SIEMs (JSON lines, RFC 5424 structured data):
// one versioned schema, declared once with zod, with stable field names that the README lists.
// A new field may be added within a version; renaming or removing one is a new version.
// Pure and node-free: the helper builds records with it, a consumer may validate them with it.

import { z } from 'zod';
import type { HelperEvent } from '../domain/detection-event.js';

export const EVENT_RECORD_VERSION = 1;

const common = {
  /** Schema version: 1. */
  v: z.literal(EVENT_RECORD_VERSION),
  /** When it happened, ISO 8601 in UTC with milliseconds. */
  time: z.iso.datetime(),
  /** The host that saw it (its hostname). */
  host: z.string().min(1).max(255),
};

export const scanRecordSchema = z.object({
  ...common,
  event: z.literal('scan'),
  source: z.string().min(2).max(64),
  family: z.union([z.literal(4), z.literal(6)]),
  port: z.number().int().min(0).max(65535),
  protocol: z.enum(['tcp', 'udp']),
  /** connect, syn, fin, null, xmas, udp, ... as the sensors name the probe. */
  kind: z.string().min(1).max(32),
  /** The detection mode that saw it: tcp, udp, stcp, sudp, atcp, audp. */
  mode: z.string().min(1).max(8),
  /** blocked, already-blocked, ignored, counted, alert-only, block-failed, rate-limited. */
  action: z.enum(['blocked', 'already-blocked', 'ignored', 'counted', 'alert-only', 'block-failed', 'rate-limited']),
  reason: z.string().max(1024).optional(),
  resolvedName: z.string().max(255).optional(),
});

export const blockRecordSchema = z.object({
  ...common,
  event: z.literal('block'),
  change: z.enum(['added', 'removed']),
  /** An address or a network (fd00:1::/64). */
  address: z.string().min(2).max(64),
  reason: z.string().max(1024),
  /** When the block lapses, ISO 8601; null: until unblocked (and for "removed"). */
  until: z.iso.datetime().nullable(),
  /** Set for a block the fleet asked for: the CrowdSec machine and scenario behind it. */
  fleetMachine: z.string().max(255).optional(),
  fleetScenario: z.string().max(255).optional(),
});

export const eventRecordSchema = z.discriminatedUnion('event', [scanRecordSchema, blockRecordSchema]);
export type EventRecord = z.infer<typeof eventRecordSchema>;
export type ScanRecord = z.infer<typeof scanRecordSchema>;
export type BlockRecord = z.infer<typeof blockRecordSchema>;

/** The record of one helper event; `host` is this host's name. */
export function toEventRecord(event: HelperEvent, host: string): EventRecord {
  const time = new Date(event.at).toISOString();
  if (event.type === 'scan') {
    return {
      v: EVENT_RECORD_VERSION,
      time,
      host,
      event: 'scan',
      source: event.source,
      family: event.family === 6 ? 6 : 4,
      port: event.port,
      protocol: event.protocol,
      kind: event.kind,
      mode: event.mode,
      action: event.action,
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      ...(event.resolvedName === undefined ? {} : { resolvedName: event.resolvedName }),
    };
  }
  return {
    v: EVENT_RECORD_VERSION,
    time,
    host,
    event: 'block',
    change: event.change,
    address: event.address,
    reason: event.reason,
    until: event.until === null ? null : new Date(event.until).toISOString(),
    ...(event.fleet === undefined ? {} : { fleetMachine: event.fleet.machine, fleetScenario: event.fleet.scenario }),
  };
}
