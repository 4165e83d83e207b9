// The helper's memory across restarts: every event it reported and every block in force,
// in SQLite (node:sqlite, no native addon). WAL mode, one autocommit write per event: an
// event is on disk before subscribers hear of it, so a kill -9 loses nothing acknowledged.
// The busy timeout is short because writes are synchronous: a locked database must not
// stall detection for long (the daemon carries on and logs the failure).

import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { FleetOrigin, HelperEvent } from '../../shared/domain/detection-event.js';
import { cleanText } from '../reporters/clean-text.js';
import { computeStats, StatsBusyError, type EventStats, type StatsQuery } from './event-stats.js';
import { queryEvents, type EventPage, type EventQuery, type StoredEvent } from './event-query.js';
import { StoreReader } from './store-reader.js';

export { bucketWidth, StatsBusyError, type EventStats, type StatsQuery } from './event-stats.js';
export type { EventPage, EventQuery, StoredEvent } from './event-query.js';

/** Statistics requests allowed to wait behind the one being computed. */
const MAX_STATS_QUEUE = 4;

export interface StoredBlock {
  readonly address: string;
  readonly since: number;
  readonly until: number | null;
  readonly reason: string;
  /** Set when the block came from the fleet. */
  readonly fleet?: FleetOrigin;
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
  private unreadable = 0;
  private statsReader: StoreReader | null = null;
  private listReader: StoreReader | null = null;
  private statsChain: Promise<void> = Promise.resolve();
  private statsQueued = 0;

  /** Opens (creating if needed) the store; ":memory:" for none on disk. */
  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    this.db = new DatabaseSync(file);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 1000;');
    this.db.exec(SCHEMA);
    // Added with the fleet (issue 16): which CrowdSec machine a block came from, as JSON.
    const columns = this.db.prepare('PRAGMA table_info(blocks)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'fleet')) this.db.exec('ALTER TABLE blocks ADD COLUMN fleet TEXT');
    this.insertEvent = this.db.prepare('INSERT INTO events (at, type, host, port, protocol, kind, action, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.upsertBlock = this.db.prepare(
      'INSERT INTO blocks (address, since, until, reason, fleet) VALUES (?, ?, ?, ?, ?) ON CONFLICT(address) DO UPDATE SET since = excluded.since, until = excluded.until, reason = excluded.reason, fleet = excluded.fleet',
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
      if (event.change === 'added') this.upsertBlock.run(event.address, event.at, event.until, event.reason, event.fleet === undefined ? null : JSON.stringify(event.fleet));
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

  /** Newest first, read here on the calling thread (tests, and the in-memory store). */
  events(query: EventQuery): EventPage {
    const { unreadable, ...page } = queryEvents(this.db, query);
    this.unreadable += unreadable;
    return page;
  }

  /**
   * The same page read on a reader thread with its own read-only connection, so a listing
   * with a filter no index serves (a table scan on a big store) never holds up detection on
   * this thread. Its own thread, not the statistics one: a long computation there does not
   * hold up the dashboard's list.
   */
  async eventsInBackground(query: EventQuery): Promise<EventPage> {
    if (this.file === ':memory:') return this.events(query);
    const { unreadable, ...page } = await (this.listReader ??= new StoreReader(this.file)).run({ kind: 'events', query });
    this.unreadable += unreadable;
    return page;
  }

  /** Rows skipped on read because even cleaned they were not a valid event (a store from an older or damaged helper). */
  get unreadableRows(): number {
    return this.unreadable;
  }

  /**
   * Figures over every scan event in a range, aggregated by SQLite (so they describe the
   * whole store, not a page of it), computed here on the calling thread. The RPC uses
   * statsInBackground instead: on a million events this takes seconds.
   */
  stats(query: StatsQuery, now: number): EventStats {
    return computeStats(this.db, query, now);
  }

  /**
   * The same figures computed on a worker thread with its own read-only connection (WAL lets
   * it read while the daemon writes), so detection never waits for a chart. One computation
   * at a time; more than MAX_STATS_QUEUE waiting are refused. An in-memory store has no file
   * to share and is computed in place (it is small: tests, or STORE_FILE="").
   */
  statsInBackground(query: StatsQuery, now: number): Promise<EventStats> {
    if (this.file === ':memory:') return Promise.resolve(this.stats(query, now));
    if (this.statsQueued >= MAX_STATS_QUEUE) return Promise.reject(new StatsBusyError());
    this.statsQueued += 1;
    const job = this.statsChain.then(() => (this.statsReader ??= new StoreReader(this.file)).run({ kind: 'stats', query, now }));
    this.statsChain = job.then(
      () => undefined,
      () => undefined,
    );
    return job.finally(() => {
      this.statsQueued -= 1;
    });
  }

  blocks(): StoredBlock[] {
    const rows = this.db.prepare('SELECT address, since, until, reason, fleet FROM blocks ORDER BY since').all() as Array<{
      address: string;
      since: number;
      until: number | null;
      reason: string;
      fleet: string | null;
    }>;
    return rows.map((row) => ({
      address: row.address,
      since: Number(row.since),
      until: row.until === null ? null : Number(row.until),
      reason: cleanText(String(row.reason)),
      ...(row.fleet === null ? {} : { fleet: JSON.parse(row.fleet) as FleetOrigin }),
    }));
  }

  /** Size of the database file(s) on disk, in bytes (0 in memory). */
  sizeBytes(): number {
    const row = this.db.prepare('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()').get() as { n: number };
    return Number(row.n);
  }

  countEvents(): number {
    return Number((this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n);
  }

  /** Deletes events older than the retention; returns how many went. */
  prune(olderThan: number): number {
    return Number(this.db.prepare('DELETE FROM events WHERE at < ?').run(olderThan).changes);
  }

  close(): void {
    this.statsReader?.terminate();
    this.statsReader = null;
    this.listReader?.terminate();
    this.listReader = null;
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
