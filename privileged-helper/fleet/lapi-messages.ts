// What the CrowdSec Local API sends us, checked as hostile input: zod schemas for the
// answers we read (login, decision stream, alert lookup), and the pure step that turns one
// decision into an address we may block, or the reason we will not. Nothing here does I/O.

import { z } from 'zod';
import { parseAddress } from '../../shared/domain/address.js';
import { parseIgnoreEntry } from '../config/ignore-list.js';

/**
 * Decisions of one stream list that are read (a community blocklist is ~20k; the fleet holds
 * 200k at most, see fleetBlockQuota). Entries beyond are counted, not read: a member that
 * adds one decision too many must not make every host drop the whole answer, withdrawals
 * included, again at each poll. The answer's byte cap bounds what is parsed.
 */
export const MAX_STREAM_DECISIONS = 200_000;

export const loginAnswerSchema = z.object({
  token: z
    .string()
    .min(16)
    .max(4096)
    .regex(/^[A-Za-z0-9._-]+$/, 'not a JWT'),
  expire: z.string().max(64).optional(),
});

/** One decision as the stream carries it. Extra fields are dropped, every kept one bounded. */
export const streamDecisionSchema = z.object({
  id: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  origin: z.string().max(64),
  type: z.string().max(32),
  scope: z.string().max(32),
  value: z.string().max(128),
  duration: z.string().max(64),
  scenario: z.string().max(256),
  simulated: z.boolean().optional(),
});
export type StreamDecision = z.infer<typeof streamDecisionSchema>;

/** The envelope: each list is checked entry by entry, so one bad decision does not hide the rest. */
export const streamAnswerSchema = z.object({
  new: z.array(z.unknown()).nullable().optional(),
  deleted: z.array(z.unknown()).nullable().optional(),
});

/** The part of an alert we read back: which machine sent it and which decisions it holds. */
export const alertLookupSchema = z
  .array(
    z.object({
      machine_id: z.string().max(256).optional(),
      decisions: z
        .array(z.object({ id: z.int().min(0) }))
        .max(1000)
        .nullable()
        .optional(),
    }),
  )
  .max(1000)
  .nullable();

/**
 * The longest a fleet ban lasts here (365 days, the longest FLEET_DECISION_DURATION): a
 * longer decision is applied for this long. A member's ban of years would otherwise outlive
 * everything that could withdraw it.
 */
export const MAX_FLEET_BAN_SECONDS = 365 * 86_400;

/** Why a decision names nothing we block. */
export const DECISION_SKIP_REASONS = ['not-a-ban', 'simulated', 'scope', 'bad-value', 'range', 'bad-duration'] as const;

/** What we do with one decision. */
export type DecisionTarget = { readonly ok: true; readonly address: string; readonly seconds: number } | { readonly ok: false; readonly reason: (typeof DECISION_SKIP_REASONS)[number] };

/**
 * A ban on one IP becomes (canonical address, seconds left). Ranges are accepted only when
 * they name one host: our sets hold addresses, and a wide range from one compromised
 * machine must not blackhole a network here.
 */
export function decisionTarget(decision: StreamDecision): DecisionTarget {
  if (decision.type.toLowerCase() !== 'ban') return { ok: false, reason: 'not-a-ban' };
  if (decision.simulated === true) return { ok: false, reason: 'simulated' };
  const parsed = parseGoDuration(decision.duration);
  if (parsed === null) return { ok: false, reason: 'bad-duration' };
  const seconds = Math.min(parsed, MAX_FLEET_BAN_SECONDS);
  const scope = decision.scope.toLowerCase();
  if (scope === 'ip') {
    const parsed = parseAddress(decision.value);
    return parsed === null ? { ok: false, reason: 'bad-value' } : { ok: true, address: parsed.address, seconds };
  }
  if (scope === 'range') {
    const entry = parseIgnoreEntry(decision.value);
    if (typeof entry === 'string') return { ok: false, reason: 'bad-value' };
    if (entry.prefix !== (entry.family === 4 ? 32 : 128)) return { ok: false, reason: 'range' };
    return { ok: true, address: entry.address, seconds };
  }
  return { ok: false, reason: 'scope' };
}

/** The canonical address a decision names (for deletions: they need no duration), or null. */
export function decisionAddress(decision: StreamDecision): string | null {
  const scope = decision.scope.toLowerCase();
  if (scope === 'ip') return parseAddress(decision.value)?.address ?? null;
  if (scope !== 'range') return null;
  const entry = parseIgnoreEntry(decision.value);
  return typeof entry === 'string' || entry.prefix !== (entry.family === 4 ? 32 : 128) ? null : entry.address;
}

const GO_UNITS: Readonly<Record<string, number>> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };

/**
 * Seconds (whole, at least 1) of a Go duration as the LAPI writes them ("3h59m58.9s");
 * null when it is not one, is negative (already expired) or exceeds ten years.
 */
export function parseGoDuration(text: string): number | null {
  if (!/^(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+$/.test(text)) return null;
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(match[1]) * (GO_UNITS[match[2] as string] as number);
  if (!Number.isFinite(total) || total > 10 * 365 * 86400) return null;
  return Math.max(1, Math.ceil(total));
}

/** The alert we send for one block: a ban decision, the scan's kind and ports in the meta. */
export interface BlockToShare {
  readonly address: string;
  readonly at: number;
  readonly kind: string;
  readonly protocol: string;
  readonly ports: readonly number[];
  readonly mode: string;
  /** The scan's record as it stood at the block: when it began, its probes and kinds so far. */
  readonly scan?: { readonly firstProbe: number; readonly probes: number; readonly kinds: readonly string[] };
}

export interface AlertSettings {
  readonly scenario: string;
  readonly origin: string;
  readonly durationSeconds: number;
}

export function alertFor(block: BlockToShare, settings: AlertSettings): Record<string, unknown> {
  const at = new Date(block.at).toISOString();
  // The alert spans the scan so far (its record: first probe to the block), not the one probe.
  const startAt = new Date(block.scan?.firstProbe ?? block.at).toISOString();
  const scope = 'Ip';
  const ports = block.ports.join(',');
  const meta = [
    { key: 'kind', value: block.scan === undefined ? block.kind : block.scan.kinds.join(',') },
    { key: 'protocol', value: block.protocol },
    { key: 'ports', value: ports },
    { key: 'mode', value: block.mode },
  ];
  return {
    scenario: settings.scenario,
    scenario_hash: '',
    scenario_version: '',
    message: `portsentry: ${block.kind} scan of ${block.protocol.toUpperCase()} port(s) ${ports} from ${block.address}${block.scan === undefined ? '' : ` (${block.scan.probes} probes)`}`,
    events_count: block.scan?.probes ?? block.ports.length,
    start_at: startAt,
    stop_at: at,
    capacity: 0,
    leakspeed: '0',
    simulated: false,
    events: [{ timestamp: at, meta }],
    meta,
    source: { scope, value: block.address, ip: block.address },
    decisions: [{ origin: settings.origin, type: 'ban', scope, value: block.address, duration: `${settings.durationSeconds}s`, scenario: settings.scenario, simulated: false }],
  };
}
