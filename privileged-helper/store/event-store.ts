// The helper's memory across restarts: every event it reported and every block in force,
// in SQLite (node:sqlite, no native addon). WAL mode, one autocommit write per event: an
// event is on disk before subscribers hear of it, so a kill -9 loses nothing acknowledged.
// The busy timeout is short because writes are synchronous: a locked database must not
// stall detection for long (the daemon carries on and logs the failure).

import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ScanKind } from '../core/types.js';
import type { BlockChangeEvent, DetectionAction, DetectionEvent, HelperEvent } from '../daemon/detection-event.js';

export type StoredEvent = (DetectionEvent | BlockChangeEvent) & { readonly id: number };

export interface EventQuery {
  readonly since?: number;
  readonly until?: number;
  readonly host?: string;
  readonly port?: number;
  readonly kind?: string;
  readonly protocol?: string;
  readonly action?: string;
  readonly limit: number;
  /** Only events with an id below this (paging from newest to oldest). */
  readonly before?: number;
}

/** What `stats` aggregates over: scan events in [since, until], optionally one source. */
export interface StatsQuery {
  readonly since?: number;
  readonly until?: number;
  readonly host?: string;
  /** How many time steps the timeline has (bounded by the protocol). */
  readonly buckets: number;
  /** The top-N lists' length and the most distinct ports listed. */
  readonly top: number;
  readonly maxPorts: number;
}

export interface EventStats {
  readonly since: number;
  readonly until: number;
  readonly total: number;
  readonly sources: number;
  readonly firstSeen: number | null;
  readonly lastSeen: number | null;
  readonly bucketMs: number;
  readonly timeline: Array<{ start: number; count: number }>;
  readonly topSources: Array<{ address: string; count: number }>;
  readonly topPorts: Array<{ port: number; protocol: 'tcp' | 'udp'; count: number }>;
  readonly kinds: Array<{ kind: ScanKind; count: number }>;
  readonly actions: Array<{ action: DetectionAction; count: number }>;
  readonly ports: Array<{ port: number; protocol: 'tcp' | 'udp'; count: number }>;
  readonly distinctPorts: number;
}

/**
 * The width of one timeline step: the range split into `buckets` whole steps, rounded up to
 * a whole second so labels stay readable; never below one second.
 */
export function bucketWidth(since: number, until: number, buckets: number): number {
  const span = Math.max(1, until - since + 1);
  return Math.max(1000, Math.ceil(span / buckets / 1000) * 1000);
}

export interface StoredBlock {
  readonly address: string;
  readonly since: number;
  readonly until: number | null;
  readonly reason: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER,
  protocol TEXT,
  kind TEXT,
  action TEXT,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE INDEX IF NOT EXISTS events_host ON events(host, id);
CREATE TABLE IF NOT EXISTS blocks (
  address TEXT PRIMARY KEY,
  since INTEGER NOT NULL,
  until INTEGER,
  reason TEXT NOT NULL
);
`;

export class EventStore {
  private readonly db: DatabaseSync;
  private readonly insertEvent: StatementSync;
  private readonly upsertBlock: StatementSync;
  private readonly deleteBlock: StatementSync;

  /** Opens (creating if needed) the store; ":memory:" for none on disk. */
  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    this.db = new DatabaseSync(file);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 1000;');
    this.db.exec(SCHEMA);
    this.insertEvent = this.db.prepare('INSERT INTO events (at, type, host, port, protocol, kind, action, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.upsertBlock = this.db.prepare(
      'INSERT INTO blocks (address, since, until, reason) VALUES (?, ?, ?, ?) ON CONFLICT(address) DO UPDATE SET since = excluded.since, until = excluded.until, reason = excluded.reason',
    );
    this.deleteBlock = this.db.prepare('DELETE FROM blocks WHERE address = ?');
  }

  /** Records an event (and the block change it describes); returns its id. */
  record(event: HelperEvent): StoredEvent {
    const scan = event.type === 'scan';
    const result = this.insertEvent.run(
      event.at,
      event.type,
      scan ? event.source : event.address,
      scan ? event.port : null,
      scan ? event.protocol : null,
      scan ? event.kind : null,
      scan ? event.action : event.change,
      JSON.stringify(event),
    );
    if (!scan) {
      if (event.change === 'added') this.upsertBlock.run(event.address, event.at, event.until, event.reason);
      else this.deleteBlock.run(event.address);
    }
    return { ...event, id: Number(result.lastInsertRowid) };
  }

  /**
   * Records several events in one transaction (one commit instead of one per event: a flood
   * of scanners costs a few commits a second, not thousands). All or nothing.
   */
  recordBatch(events: readonly HelperEvent[]): StoredEvent[] {
    if (events.length === 1) return [this.record(events[0]!)];
    this.db.exec('BEGIN');
    try {
      const stored = events.map((event) => this.record(event));
      this.db.exec('COMMIT');
      return stored;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Newest first. */
  events(query: EventQuery): { events: StoredEvent[]; nextCursor: number | null } {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('at >= ?', query.since);
    add('at <= ?', query.until);
    add('host = ?', query.host);
    add('port = ?', query.port);
    add('kind = ?', query.kind);
    add('protocol = ?', query.protocol);
    add('action = ?', query.action);
    add('id < ?', query.before);
    const sql = `SELECT id, body FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, query.limit + 1) as Array<{ id: number; body: string }>;
    const page = rows.slice(0, query.limit).map((row) => ({ ...(JSON.parse(row.body) as HelperEvent), id: Number(row.id) }));
    return { events: page, nextCursor: rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null };
  }

  /**
   * Figures over every scan event in a range, aggregated by SQLite (so they describe the
   * whole store, not a page of it). Each list is bounded, whatever the store holds.
   */
  stats(query: StatsQuery, now: number): EventStats {
    const where = ["type = 'scan'"];
    const args: Array<string | number> = [];
    if (query.host !== undefined) {
      where.push('host = ?');
      args.push(query.host);
    }
    const scope = where.join(' AND ');
    // Left open, the range starts at the oldest scan (of this host) and ends now.
    const oldest = this.db.prepare(`SELECT min(at) AS at FROM events WHERE ${scope}`).get(...args) as { at: number | null };
    const until = query.until ?? Math.max(now, query.since ?? 0);
    const since = Math.min(query.since ?? (oldest.at === null ? until : Number(oldest.at)), until);
    const ranged = `${scope} AND at >= ? AND at <= ?`;
    const rangedArgs = [...args, since, until];
    const totals = this.db.prepare(`SELECT count(*) AS n, count(DISTINCT host) AS sources, min(at) AS first, max(at) AS last FROM events WHERE ${ranged}`).get(...rangedArgs) as {
      n: number;
      sources: number;
      first: number | null;
      last: number | null;
    };
    const bucketMs = bucketWidth(since, until, query.buckets);
    const steps = Math.min(query.buckets, Math.floor((until - since) / bucketMs) + 1);
    const timeline = Array.from({ length: steps }, (_, i) => ({ start: since + i * bucketMs, count: 0 }));
    // node:sqlite binds JS numbers as REAL; the casts keep the step an integer division.
    const perStep = this.db.prepare(`SELECT (at - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS step, count(*) AS n FROM events WHERE ${ranged} GROUP BY step`).all(since, bucketMs, ...rangedArgs) as Array<{ step: number; n: number }>;
    for (const row of perStep) {
      const slot = timeline[Math.min(steps - 1, Number(row.step))];
      if (slot !== undefined) slot.count += Number(row.n);
    }
    const counted = <T>(sql: string, extra: Array<string | number>, map: (row: Record<string, unknown>) => T): T[] =>
      (this.db.prepare(sql).all(...rangedArgs, ...extra) as Array<Record<string, unknown>>).map(map);
    const portRow = (row: Record<string, unknown>) => ({ port: Number(row.port), protocol: row.protocol as 'tcp' | 'udp', count: Number(row.n) });
    const distinct = this.db.prepare(`SELECT count(*) AS n FROM (SELECT DISTINCT port, protocol FROM events WHERE ${ranged})`).get(...rangedArgs) as { n: number };
    return {
      since,
      until,
      total: Number(totals.n),
      sources: Number(totals.sources),
      firstSeen: totals.first === null ? null : Number(totals.first),
      lastSeen: totals.last === null ? null : Number(totals.last),
      bucketMs,
      timeline,
      topSources: counted(`SELECT host, count(*) AS n FROM events WHERE ${ranged} GROUP BY host ORDER BY n DESC, host LIMIT ?`, [query.top], (row) => ({
        address: String(row.host),
        count: Number(row.n),
      })),
      topPorts: counted(`SELECT port, protocol, count(*) AS n FROM events WHERE ${ranged} GROUP BY port, protocol ORDER BY n DESC, port LIMIT ?`, [query.top], portRow),
      kinds: counted(`SELECT kind, count(*) AS n FROM events WHERE ${ranged} GROUP BY kind ORDER BY n DESC, kind`, [], (row) => ({ kind: row.kind as ScanKind, count: Number(row.n) })),
      actions: counted(`SELECT action, count(*) AS n FROM events WHERE ${ranged} GROUP BY action ORDER BY n DESC, action`, [], (row) => ({
        action: row.action as DetectionAction,
        count: Number(row.n),
      })),
      ports: counted(`SELECT port, protocol, count(*) AS n FROM events WHERE ${ranged} GROUP BY port, protocol ORDER BY port, protocol LIMIT ?`, [query.maxPorts], portRow),
      distinctPorts: Number(distinct.n),
    };
  }

  blocks(): StoredBlock[] {
    const rows = this.db.prepare('SELECT address, since, until, reason FROM blocks ORDER BY since').all() as Array<{
      address: string;
      since: number;
      until: number | null;
      reason: string;
    }>;
    return rows.map((row) => ({ address: row.address, since: Number(row.since), until: row.until === null ? null : Number(row.until), reason: row.reason }));
  }

  countEvents(): number {
    return Number((this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n);
  }

  /** Deletes events older than the retention; returns how many went. */
  prune(olderThan: number): number {
    return Number(this.db.prepare('DELETE FROM events WHERE at < ?').run(olderThan).changes);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

/** Records the end of every stored block (e.g. after --remove-firewall); returns how many. */
export function forgetStoredBlocks(file: string, reason: string, now = Date.now()): number {
  if (file === '' || !existsSync(file)) return 0;
  const store = new EventStore(file);
  try {
    const blocks = store.blocks();
    for (const block of blocks) store.record({ type: 'block', change: 'removed', at: now, address: block.address, reason, until: null });
    return blocks.length;
  } finally {
    store.close();
  }
}
