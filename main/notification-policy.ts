// Decides which desktop notifications to raise for the helper's events. A port scan is
// hundreds of events from one source within seconds; the user wants one notification that
// says "198.18.0.11 scanned 1000 ports and was blocked", not a thousand. So events are
// grouped per source into bursts: a burst is shown once its coalescing window has passed
// (with everything seen so far), then refreshed in place at most every `updateMs` while the
// scan goes on. A flood (more sources waiting to be shown than the per-minute allowance) is
// folded into one summary notification from its first show, not a few singles and then one.
// No I/O: time comes in with every call, and the output is a list of requests for the glue.

import type { GuiPreferences } from '../shared/desktop-api.js';
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
  /** Events from one source closer together than this belong to one burst; also the delay before it is shown. */
  readonly windowMs?: number;
  /** A shown burst is refreshed at most this often. */
  readonly updateMs?: number;
  /** More new per-source notifications than this within a minute are folded into one aggregate. */
  readonly maxNewPerMinute?: number;
  /** Minutes since local midnight at an instant; injectable so tests do not depend on the time zone. */
  readonly localMinutes?: (epochMs: number) => number;
}

interface Burst {
  readonly key: string;
  readonly source: string;
  resolvedName: string | undefined;
  readonly startedAt: number;
  lastEventAt: number;
  probes: number;
  readonly ports: Set<number>;
  readonly kinds: Set<ScanKind>;
  blocked: boolean;
  blockFailed: boolean;
  /** The helper's reason the latest time it did not block this source (report only, paused, rate limit, a failure). */
  notBlockedReason: string | null;
  readonly firstEventId: number;
  triggerEventId: number | null;
  notifiedAt: number | null;
  /** Something changed since the last notification. */
  dirty: boolean;
  /** Shown as part of the aggregate instead of on its own. */
  folded: boolean;
}

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
      let burst = this.openBySource.get(event.source);
      if (burst === undefined || now - burst.lastEventAt > this.windowMs) {
        burst = this.newBurst(event.source, event.id, now);
      }
      burst.lastEventAt = now;
      burst.probes += 1;
      burst.ports.add(event.port);
      burst.kinds.add(event.kind);
      if (event.resolvedName !== undefined) burst.resolvedName = event.resolvedName;
      if (event.action === 'blocked' || event.action === 'already-blocked') {
        burst.blocked = true;
        burst.triggerEventId ??= event.id;
      }
      if (event.action === 'block-failed') burst.blockFailed = true;
      if ((event.action === 'alert-only' || event.action === 'rate-limited' || event.action === 'block-failed') && event.reason !== undefined) {
        burst.notBlockedReason = event.reason.replace(/^(reported already, )?not blocked: /, '');
      }
      burst.dirty = true;
      this.noteFoldedBlock(burst);
    }
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

  private newBurst(source: string, eventId: number, now: number): Burst {
    this.serial += 1;
    const burst: Burst = {
      key: `scan:${source}:${this.serial}`,
      source,
      resolvedName: undefined,
      startedAt: now,
      lastEventAt: now,
      probes: 0,
      ports: new Set(),
      kinds: new Set(),
      blocked: false,
      blockFailed: false,
      notBlockedReason: null,
      firstEventId: eventId,
      triggerEventId: null,
      notifiedAt: null,
      dirty: false,
      folded: false,
    };
    this.bursts.set(burst.key, burst);
    this.openBySource.set(source, burst);
    return burst;
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
    const who = burst.resolvedName === undefined ? burst.source : `${burst.source} (${burst.resolvedName})`;
    const title = burst.blocked ? `Blocked a port scan from ${who}` : `Port scan from ${who}${burst.blockFailed ? ': block failed' : ''}`;
    const seconds = Math.max(1, Math.round((burst.lastEventAt - burst.startedAt) / 1000));
    const kinds = [...burst.kinds]
      .sort()
      .map((kind) => KIND_WORDS[kind])
      .join(', ');
    // Not blocked: say why, in the helper's words (report only, paused, over the rate limit).
    const why = !burst.blocked && burst.notBlockedReason !== null ? `. Not blocked: ${burst.notBlockedReason}` : '';
    const body = `${plural(burst.probes, 'probe')} on ${plural(burst.ports.size, 'port')} (${kinds}) within ${seconds} s${update ? ', still going' : ''}${why}`;
    return {
      key: burst.key,
      update,
      title,
      body,
      source: burst.source,
      blocked: burst.blocked,
      actions: burst.blocked ? ['ignore'] : ['block', 'ignore'],
      openEventId: burst.triggerEventId ?? burst.firstEventId,
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
};

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
