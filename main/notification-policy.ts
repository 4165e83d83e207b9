// Decides which desktop notifications to raise. A port scan is hundreds of probes from one
// source within seconds; the user wants one notification that says "198.18.0.11 scanned 1000
// ports and was blocked", not a thousand. The helper already folds each scan into one record
// (shared/domain/scan-record.ts) and pushes it as it grows, so a notification is keyed by the
// scan record: shown once its coalescing window has passed (with the record as it is then),
// refreshed in place at most every `updateMs` while the record grows, its body from the
// record (probes, ports, kinds, outcome, and why not when not blocked). Events add only what a
// record does not carry: the resolved name, the event a click opens, a block changed by hand,
// a failed block. A flood (more scans waiting to be shown than the per-minute allowance) is
// folded into one summary notification from its first show, not a few singles and then one.
// No I/O: time comes in with every call, and the output is a list of requests for the glue.

import type { GuiPreferences } from '../shared/desktop-api.js';
import { describeRecordPorts, type ScanRecord } from '../shared/domain/scan-record.js';
import type { ScanKind } from '../shared/domain/types.js';
import type { StoredEvent } from '../shared/protocol/schemas.js';
import { inQuietHours, localMinutesOfDay } from './quiet-hours.js';

export type NotificationAction = 'block' | 'ignore';

export interface NotificationRequest {
  /** Same key = replace the notification raised earlier under it. */
  readonly key: string;
  /** False the first time a key is shown, true for a refresh of it. */
  readonly update: boolean;
  readonly title: string;
  readonly body: string;
  /** The scanner, or null for the aggregate of many sources. */
  readonly source: string | null;
  readonly blocked: boolean;
  readonly actions: readonly NotificationAction[];
  /** The event a click opens in the dashboard (the one that triggered the block, else the first). */
  readonly openEventId: number | null;
}

export type NotificationPreferences = Pick<GuiPreferences, 'notifications' | 'quietStart' | 'quietEnd'>;

export interface NotificationPolicyOptions {
  /** The delay before a scan is first shown; a scan whose record has not changed for this long is finished. */
  readonly windowMs?: number;
  /** A shown scan is refreshed at most this often. */
  readonly updateMs?: number;
  /** More new per-source notifications than this within a minute are folded into one aggregate. */
  readonly maxNewPerMinute?: number;
  /** Minutes since local midnight at an instant; injectable so tests do not depend on the time zone. */
  readonly localMinutes?: (epochMs: number) => number;
}

/** What the events of one source said that its scan record does not carry. */
interface SourceNotes {
  resolvedName: string | undefined;
  firstEventId: number | null;
  triggerEventId: number | null;
  blockFailed: boolean;
}

/** One scan (one record) and its notification. */
interface Burst {
  readonly key: string;
  readonly source: string;
  record: ScanRecord;
  readonly notes: SourceNotes;
  /** When its record first arrived: it is shown once the window has passed. */
  readonly startedAt: number;
  /** When its record last changed. */
  lastEventAt: number;
  blocked: boolean;
  notifiedAt: number | null;
  /** Something changed since the last notification. */
  dirty: boolean;
  /** Shown as part of the aggregate instead of on its own. */
  folded: boolean;
}

/** Sources whose events came before their first scan record (records are pushed once a second), at most. */
const MAX_EARLY_NOTES = 1024;

interface Aggregate {
  key: string;
  readonly sources: Set<string>;
  readonly blocked: Set<string>;
  notifiedAt: number | null;
  dirty: boolean;
  /** When its earliest burst started: it is first shown once that burst's window has passed. */
  readonly startedAt: number;
}

const MINUTE = 60_000;

export class NotificationPolicy {
  private readonly windowMs: number;
  private readonly updateMs: number;
  private readonly maxNewPerMinute: number;
  private readonly localMinutes: (epochMs: number) => number;
  private readonly bursts = new Map<string, Burst>();
  /** The burst still accepting events for each source. */
  private readonly openBySource = new Map<string, Burst>();
  private readonly recentShows: number[] = [];
  private readonly earlyNotes = new Map<string, SourceNotes>();
  private aggregate: Aggregate | null = null;
  private serial = 0;

  constructor(options: NotificationPolicyOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    this.updateMs = options.updateMs ?? 30_000;
    this.maxNewPerMinute = options.maxNewPerMinute ?? 5;
    this.localMinutes = options.localMinutes ?? localMinutesOfDay;
  }

  /** Bursts not yet finished (for tests and diagnostics). */
  get pendingBursts(): number {
    return this.bursts.size;
  }

  /**
   * An event: only what a scan record does not say (the name, the event a click opens, a
   * block changed by hand, a failed block). Probes are not folded here: records are.
   */
  onEvent(event: StoredEvent, now: number, preferences: NotificationPreferences): NotificationRequest[] {
    if (event.type === 'block') {
      // Keeps the offered actions right (no "Block" for a source that is blocked) without
      // raising anything: a block change is the user's own doing or part of a scan already shown.
      const burst = this.openBySource.get(event.address);
      if (burst !== undefined) {
        burst.blocked = event.change === 'added';
        this.noteFoldedBlock(burst);
      }
    } else if (event.action !== 'ignored') {
      const notes = this.notesOf(event.source);
      notes.firstEventId ??= event.id;
      if (event.resolvedName !== undefined) notes.resolvedName = event.resolvedName;
      if (event.action === 'blocked' || event.action === 'already-blocked') notes.triggerEventId ??= event.id;
      if (event.action === 'block-failed') notes.blockFailed = true;
    }
    return this.tick(now, preferences);
  }

  /** A scan record the helper pushed (the whole record, as it grew): one notification per record. */
  onRecord(record: ScanRecord, now: number, preferences: NotificationPreferences): NotificationRequest[] {
    let burst = this.bursts.get(`scan:${record.id}`);
    if (burst === undefined) burst = this.newBurst(record, now);
    else if (record.probes < burst.record.probes) return this.tick(now, preferences); // an older copy
    burst.record = record;
    burst.lastEventAt = now;
    if (record.outcome === 'blocked') burst.blocked = true;
    burst.dirty = true;
    this.noteFoldedBlock(burst);
    return this.tick(now, preferences);
  }

  /** Call about once a second: shows bursts whose window has passed and refreshes running ones. */
  tick(now: number, preferences: NotificationPreferences): NotificationRequest[] {
    const out: NotificationRequest[] = [];
    const quiet = inQuietHours(this.localMinutes(now), preferences.quietStart, preferences.quietEnd);
    while (this.recentShows.length > 0 && now - this.recentShows[0]! >= MINUTE) this.recentShows.shift();

    const isEligible = (burst: Burst) => !quiet && preferences.notifications !== 'off' && (preferences.notifications === 'all' || burst.blocked);
    // Every source still waiting for its first notification counts, ready or not: forty
    // sources of one flood are one summary, not the first few on their own and then one.
    let waiting = 0;
    for (const burst of this.bursts.values()) if (burst.notifiedAt === null && isEligible(burst)) waiting += 1;
    const flood = this.aggregate !== null || this.recentShows.length + waiting > this.maxNewPerMinute;

    for (const burst of this.bursts.values()) {
      const eligible = isEligible(burst);
      if (burst.notifiedAt === null) {
        // In a flood every waiting source joins the summary at once, ready or not.
        if (eligible && flood) this.fold(burst, now);
        else if (eligible && now - burst.startedAt >= this.windowMs) {
          this.recentShows.push(now);
          out.push(this.show(burst, now, false));
        }
      } else if (!burst.folded && burst.dirty && eligible && now - burst.notifiedAt >= this.updateMs) {
        out.push(this.show(burst, now, true));
      }
      const idle = now - burst.lastEventAt > this.windowMs;
      const finished = burst.notifiedAt === null || burst.folded || !burst.dirty || !eligible;
      if (idle && finished) this.forget(burst);
    }

    const aggregate = this.aggregate;
    if (aggregate !== null) {
      const eligible = !quiet && preferences.notifications !== 'off';
      const due = aggregate.notifiedAt === null ? now - aggregate.startedAt >= this.windowMs : now - aggregate.notifiedAt >= this.updateMs;
      if (aggregate.dirty && eligible && due) {
        out.push(this.showAggregate(aggregate, now));
      }
      // Once it has been quiet for a while, the next flood starts a fresh aggregate.
      if (aggregate.notifiedAt !== null && !aggregate.dirty && now - aggregate.notifiedAt >= MINUTE) this.aggregate = null;
    }
    return out;
  }

  private newBurst(record: ScanRecord, now: number): Burst {
    // The events of this scan that came before its record (pushed once a second) said these.
    const early = this.earlyNotes.get(record.scanner);
    this.earlyNotes.delete(record.scanner);
    const burst: Burst = {
      key: `scan:${record.id}`,
      source: record.scanner,
      record,
      notes: early ?? { resolvedName: undefined, firstEventId: null, triggerEventId: null, blockFailed: false },
      startedAt: now,
      lastEventAt: now,
      blocked: false,
      notifiedAt: null,
      dirty: false,
      folded: false,
    };
    this.bursts.set(burst.key, burst);
    this.openBySource.set(record.scanner, burst);
    return burst;
  }

  /** Where an event of `source` writes what it says: its open scan, or notes kept until its record comes. */
  private notesOf(source: string): SourceNotes {
    const open = this.openBySource.get(source);
    if (open !== undefined) return open.notes;
    let notes = this.earlyNotes.get(source);
    if (notes === undefined) {
      notes = { resolvedName: undefined, firstEventId: null, triggerEventId: null, blockFailed: false };
      this.earlyNotes.set(source, notes);
      // Bounded: the oldest sources' notes go first (a click then opens the dashboard unfocused).
      for (const oldest of this.earlyNotes.keys()) {
        if (this.earlyNotes.size <= MAX_EARLY_NOTES) break;
        this.earlyNotes.delete(oldest);
      }
    }
    return notes;
  }

  private forget(burst: Burst): void {
    this.bursts.delete(burst.key);
    if (this.openBySource.get(burst.source) === burst) this.openBySource.delete(burst.source);
  }

  private fold(burst: Burst, now: number): void {
    burst.folded = true;
    burst.notifiedAt = now;
    this.serial += 1;
    this.aggregate ??= { key: `many:${this.serial}`, sources: new Set(), blocked: new Set(), notifiedAt: null, dirty: false, startedAt: burst.startedAt };
    this.aggregate.sources.add(burst.source);
    if (burst.blocked) this.aggregate.blocked.add(burst.source);
    this.aggregate.dirty = true;
  }

  /** A folded source blocked (or unblocked) after it joined the summary: the count follows. */
  private noteFoldedBlock(burst: Burst): void {
    const aggregate = this.aggregate;
    if (!burst.folded || aggregate === null || !aggregate.sources.has(burst.source)) return;
    const had = aggregate.blocked.has(burst.source);
    if (burst.blocked === had) return;
    if (burst.blocked) aggregate.blocked.add(burst.source);
    else aggregate.blocked.delete(burst.source);
    aggregate.dirty = true;
  }

  private show(burst: Burst, now: number, update: boolean): NotificationRequest {
    burst.notifiedAt = now;
    burst.dirty = false;
    const { record, notes } = burst;
    const who = notes.resolvedName === undefined ? burst.source : `${burst.source} (${notes.resolvedName})`;
    const failed = !burst.blocked && notes.blockFailed;
    const title = burst.blocked ? `Blocked a port scan from ${who}` : `Port scan from ${who}${failed ? ': block failed' : ''}`;
    const seconds = Math.max(1, Math.round((record.lastProbe - record.firstProbe) / 1000));
    const kinds = record.kinds.map((kind) => KIND_WORDS[kind]).join(', ');
    const portCount = record.ports.tcp.length + record.ports.udp.length;
    // Not blocked: say why, in the helper's words (report only, paused, over the rate limit).
    const why = !burst.blocked && record.reason !== undefined ? `. Not blocked: ${record.reason}` : '';
    const body = `${plural(record.probes, 'probe')} on ${plural(portCount, 'port')}, ${shortPorts(describeRecordPorts(record))} (${kinds}) within ${seconds} s${update ? ', still going' : ''}${why}`;
    return {
      key: burst.key,
      update,
      title,
      body,
      source: burst.source,
      blocked: burst.blocked,
      actions: burst.blocked ? ['ignore'] : ['block', 'ignore'],
      openEventId: notes.triggerEventId ?? notes.firstEventId,
    };
  }

  private showAggregate(aggregate: Aggregate, now: number): NotificationRequest {
    const update = aggregate.notifiedAt !== null;
    aggregate.notifiedAt = now;
    aggregate.dirty = false;
    return {
      key: aggregate.key,
      update,
      title: `Port scans from ${plural(aggregate.sources.size, 'source')}`,
      body: `${aggregate.blocked.size} of them blocked. Open the dashboard for the list.`,
      source: null,
      blocked: aggregate.blocked.size > 0,
      actions: [],
      openEventId: null,
    };
  }
}

/** What a scan kind is called in a notification ("SYN scan", not "(syn)"). */
export const KIND_WORDS: Readonly<Record<ScanKind, string>> = {
  connect: 'connect scan',
  udp: 'UDP probe',
  syn: 'SYN scan',
  fin: 'FIN scan',
  null: 'NULL scan',
  xmas: 'XMAS scan',
  'odd-flags': 'odd-flag scan',
  ack: 'ACK scan',
  maimon: 'Maimon scan',
  'sctp-init': 'SCTP INIT scan',
  'sctp-cookie-echo': 'SCTP COOKIE-ECHO scan',
  'ip-protocol': 'IP protocol scan',
  'icmp-echo': 'ping sweep (ICMP echo)',
  'icmp-timestamp': 'ping sweep (ICMP timestamp)',
  'icmp-mask': 'ping sweep (ICMP address mask)',
};

/** A record's ports, cut at a whole run past PORTS_TEXT_MAX characters (the dashboard has the rest). */
const PORTS_TEXT_MAX = 60;
function shortPorts(text: string): string {
  if (text.length <= PORTS_TEXT_MAX) return text;
  const cut = text.lastIndexOf(',', PORTS_TEXT_MAX);
  return `${text.slice(0, cut > 0 ? cut : PORTS_TEXT_MAX)},…`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
