// The scanner list's logic, free of DOM: one row per scanner folded from the helper's scan
// records (scans.list: one record per scan, so a scanner that came back has several), its
// state with the reason (from the block list, the ignore list and the helper's word on its
// latest probe), the short forms of its ports and kinds, and what the search keeps.

import type { BlockEntry, IgnoreListEntry } from '../../shared/protocol/schemas.js';
import type { ScanRecord } from '../../shared/domain/scan-record.js';
import { blockCovers } from '../../shared/domain/block-target.js';
import { KIND_LABELS, formatTime } from '../lib/format.js';
import { coveringBlock, notBlockedReason, portRanges } from './block-model.js';
import type { ScanEvent, ScanKind } from './event-model.js';

export type ScanOutcome = ScanRecord['outcome'];

/** Everything the list knows about one source over the chosen range. */
export interface Scanner {
  readonly address: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
  readonly kinds: readonly ScanKind[];
  readonly probes: number;
  /** The strongest outcome of its scans: blocked > reported > watched. */
  readonly outcome: ScanOutcome;
  /** How many scans (records) it made. */
  readonly scans: number;
}

const STRENGTH: Readonly<Record<ScanOutcome, number>> = { watched: 0, reported: 1, blocked: 2 };

/**
 * Folds scan records into one scanner each, newest last probe first. Records whose last
 * probe is before `since` are left out (the time range); a range-scanner record (its
 * scanner an address/prefix) stays a row of its own.
 */
export function foldScanners(records: readonly ScanRecord[], since?: number): Scanner[] {
  const by = new Map<string, { first: number; last: number; tcp: Set<number>; udp: Set<number>; kinds: Set<ScanKind>; probes: number; outcome: ScanOutcome; scans: number }>();
  for (const record of records) {
    if (since !== undefined && record.lastProbe < since) continue;
    const seen = by.get(record.scanner);
    if (seen === undefined) {
      by.set(record.scanner, {
        first: record.firstProbe,
        last: record.lastProbe,
        tcp: new Set(record.ports.tcp),
        udp: new Set(record.ports.udp),
        kinds: new Set(record.kinds),
        probes: record.probes,
        outcome: record.outcome,
        scans: 1,
      });
      continue;
    }
    seen.first = Math.min(seen.first, record.firstProbe);
    seen.last = Math.max(seen.last, record.lastProbe);
    for (const port of record.ports.tcp) seen.tcp.add(port);
    for (const port of record.ports.udp) seen.udp.add(port);
    for (const kind of record.kinds) seen.kinds.add(kind);
    seen.probes += record.probes;
    if (STRENGTH[record.outcome] > STRENGTH[seen.outcome]) seen.outcome = record.outcome;
    seen.scans++;
  }
  return [...by.entries()]
    .map(([address, s]) => ({
      address,
      firstSeen: s.first,
      lastSeen: s.last,
      tcp: [...s.tcp].sort((a, b) => a - b),
      udp: [...s.udp].sort((a, b) => a - b),
      kinds: [...s.kinds],
      probes: s.probes,
      outcome: s.outcome,
      scans: s.scans,
    }))
    .sort((a, b) => b.lastSeen - a.lastSeen || (a.address < b.address ? -1 : 1));
}

/** "TCP 1-3, 79; UDP 7" in full. */
export function portsText(scanner: Pick<Scanner, 'tcp' | 'udp'>): string {
  const parts: string[] = [];
  if (scanner.tcp.length > 0) parts.push(`TCP ${portRanges(scanner.tcp)}`);
  if (scanner.udp.length > 0) parts.push(`UDP ${portRanges(scanner.udp)}`);
  return parts.join('; ');
}

/** The same, cut to about `max` characters on a range boundary, with how many ports are left out. */
export function portsShort(scanner: Pick<Scanner, 'tcp' | 'udp'>, max = 28): string {
  const full = portsText(scanner);
  if (full.length <= max) return full;
  const cut = full.slice(0, max);
  const end = Math.max(cut.lastIndexOf(','), cut.lastIndexOf(';'));
  const shown = end > 0 ? cut.slice(0, end) : cut;
  const total = scanner.tcp.length + scanner.udp.length;
  return `${shown} … (${total} ports)`;
}

/** The kinds in words, full ("SYN (half-open), UDP probe") and short ("SYN, UDP"). */
export function kindsText(kinds: readonly ScanKind[]): { full: string; short: string } {
  return { full: kinds.map((k) => KIND_LABELS[k]).join(', '), short: kinds.map((k) => KIND_LABELS[k].replace(/ \(.*\)$/, '').replace(/ probe$/, '')).join(', ') };
}

/** A scanner's state in one word and the reason behind it. */
export interface ScannerRowState {
  readonly kind: 'blocked' | 'allowed' | 'reported' | 'watched' | 'lifted';
  /** "Blocked", "Allowed", "Reported only", "Watched", "Not blocked". */
  readonly label: string;
  /** Until when, by what, or why not (the helper's words); "" when there is nothing to add. */
  readonly why: string;
  readonly blocked: boolean;
}

/**
 * The state of one scanner, from the helper's lists only: allowed when an ignore entry covers
 * it (the helper never blocks it then), blocked when a block of blocks.list covers it, else
 * what its scans' outcome and the helper's reason on its latest probe say.
 */
export function scannerRowState(
  scanner: Pick<Scanner, 'address' | 'outcome'>,
  blocks: readonly BlockEntry[],
  ignored: readonly IgnoreListEntry[],
  latest: Pick<ScanEvent, 'action' | 'reason'> | null,
): ScannerRowState {
  const entry = ignored.find((e) => blockCovers(e.entry, scanner.address));
  const block = coveringBlock(scanner.address, blocks);
  if (entry !== undefined) {
    const until = entry.until === undefined ? 'ignored from now on' : `until ${formatTime(entry.until)}`;
    return { kind: 'allowed', label: 'Allowed', why: entry.entry === scanner.address ? until : `${until} (by ${entry.entry})`, blocked: block !== null };
  }
  if (block !== null) {
    const by = block.address === scanner.address ? '' : ` by ${block.address}`;
    return { kind: 'blocked', label: 'Blocked', why: `${block.until === null ? 'until unblocked' : `until ${formatTime(block.until)}`}${by}`, blocked: true };
  }
  const why = latest === null || latest.action === 'blocked' || latest.action === 'already-blocked' ? '' : notBlockedReason(latest);
  if (scanner.outcome === 'blocked') return { kind: 'lifted', label: 'Not blocked', why: 'its block was lifted or expired', blocked: false };
  if (scanner.outcome === 'reported') return { kind: 'reported', label: 'Reported only', why, blocked: false };
  return { kind: 'watched', label: 'Watched', why, blocked: false };
}

/** Free-text search over what a scanner row shows: every word somewhere in it. */
export function scannerMatches(text: readonly string[], search: string): boolean {
  const words = search
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  const haystack = text.join(' ').toLowerCase();
  return words.every((w) => haystack.includes(w));
}

/** "12:03:05" today, "2026-12-07 12:03" otherwise: short enough for a narrow column. */
export function shortTime(ms: number, now: number): string {
  const full = formatTime(ms);
  return full.slice(0, 10) === formatTime(now).slice(0, 10) ? full.slice(11) : full.slice(0, 16);
}

/** Who owns a scanner's network, in a few words: "AS15169 Google LLC · US", "private network". */
export function ownerText(owner: { readonly private: boolean; readonly country: string | null; readonly asn: number | null; readonly org: string | null }): string {
  if (owner.private) return 'private network';
  const network = owner.asn === null ? null : `AS${owner.asn}${owner.org === null || owner.org === '' ? '' : ` ${owner.org}`}`;
  const parts = [network, owner.country].filter((p): p is string => p !== null);
  return parts.length === 0 ? 'network not in the database' : parts.join(' · ');
}
