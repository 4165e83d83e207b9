// The helper's memory across restarts: every event it reported and every block in force,
// in SQLite (node:sqlite, no native addon). WAL mode, one autocommit write per event: an
// event is on disk before subscribers hear of it, so a kill -9 loses nothing acknowledged.
// The busy timeout is short because writes are synchronous: a locked database must not
// stall detection for long (the daemon carries on and logs the failure). A store that fails
// (disk full, locked, damaged, its file replaced or deleted) never stops detection: the
// failure is logged (rate-limited), `status()` says what is wrong, and a read that cannot be
// done throws a StoreError naming the file.

import type { ScanRecord } from '../../shared/domain/scan-record.js';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { FleetOrigin, HelperEvent } from '../../shared/domain/detection-event.js';
import { cleanText } from '../reporters/clean-text.js';
import { messages } from '../reporters/messages.js';
import { computeStats, StatsBusyError, type EventStats, type StatsQuery } from './event-stats.js';
import { queryEvents, type EventPage, type EventQuery, type StoredEvent } from './event-query.js';
import { fileIdentity } from './store-files.js';
import { failureText, StoreError, StoreHealth, storeFailureKind, type StoreStatus } from './store-health.js';
import { ReaderError, StoreReader } from './store-reader.js';

export { bucketWidth, StatsBusyError, type EventStats, type StatsQuery } from './event-stats.js';
export type { EventPage, EventQuery, StoredEvent } from './event-query.js';
export { StoreError, type StoreStatus } from './store-health.js';

/** Statistics requests allowed to wait behind the one being computed. */
const MAX_STATS_QUEUE = 4;

/**
 * A store up to this size gets a full `PRAGMA quick_check` at start. The check reads every
 * page: measured on 1,000,000 events (274 MB) it takes 0.45-0.55 s with the file in the page
 * cache and 4.3 s from a cold disk, too long for every start; on 8 MiB (36,000 events) about
 * 30 ms cached and 0.2 s cold. Bigger stores get the checks of the pages start-up reads.
 */
export const FULL_CHECK_MAX_BYTES = 8 * 1024 * 1024;

export interface EventStoreOptions {
  /** Where the store's failures are said (rate-limited); none in tests that do not care. */
  readonly log?: (message: string) => void;
  readonly clock?: () => number;
}

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
CREATE TABLE IF NOT EXISTS scans (
  id TEXT PRIMARY KEY,
  scanner TEXT NOT NULL,
  last_probe INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scans_last ON scans(last_probe);
CREATE TABLE IF NOT EXISTS blocks (
  address TEXT PRIMARY KEY,
  since INTEGER NOT NULL,
  until INTEGER,
  reason TEXT NOT NULL
);
`;

export class EventStore {
  private readonly db: DatabaseSync;
  private readonly log: (message: string) => void;
  private readonly clock: () => number;
  private readonly health = new StoreHealth();
  /** The file SQLite opened (device:inode), to notice it being replaced or deleted; null in memory. */
  private readonly identity: string | null;
  private isDamaged = false;
  private lastCount = 0;
  private lastSize = 0;
  private readonly insertEvent: StatementSync;
  private readonly upsertBlock: StatementSync;
  private readonly deleteBlock: StatementSync;
  private unreadable = 0;
  private statsReader: StoreReader | null = null;
  private listReader: StoreReader | null = null;
  private statsChain: Promise<void> = Promise.resolve();
  private statsQueued = 0;

  /** Opens (creating if needed) the store; ":memory:" for none on disk. Throws SQLite's error. */
  constructor(
    readonly file: string,
    options: EventStoreOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    this.clock = options.clock ?? Date.now;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    this.db = new DatabaseSync(file);
    this.identity = file === ':memory:' ? null : fileIdentity(file);
    try {
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
    } catch (error) {
      // Not left open on a file that is about to be moved aside.
      this.db.close();
      throw error;
    }
  }

  /**
   * Reads what start-up reads, and (for a store up to fullCheckMaxBytes) every page, so a
   * damaged store is found now rather than by the first query that reaches the damage.
   * Throws SQLite's error (a failed quick_check as SQLITE_CORRUPT).
   */
  verify(fullCheckMaxBytes = FULL_CHECK_MAX_BYTES): void {
    this.db.prepare('SELECT max(id) FROM events').get();
    this.db.prepare('SELECT min(at) FROM events').get();
    this.db.prepare("SELECT max(id) FROM events WHERE host = ''").get();
    this.readBlocks();
    const { n: bytes } = this.db.prepare('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()').get() as { n: number };
    if (Number(bytes) > fullCheckMaxBytes) return;
    const rows = this.db.prepare('PRAGMA quick_check').all() as Array<{ quick_check: string }>;
    if (rows.length !== 1 || rows[0]!.quick_check !== 'ok') {
      throw Object.assign(new Error(`database disk image is malformed (quick_check: ${rows[0]?.quick_check ?? 'no answer'})`), { errcode: 11 });
    }
  }

  /** Records an event (and the block change it describes); returns its id. Throws when the store cannot take it (said in the log and in status()). */
  record(event: HelperEvent): StoredEvent {
    return this.writing(() => this.insert(event));
  }

  private insert(event: HelperEvent): StoredEvent {
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
    return this.writing(() => this.transaction(() => events.map((event) => this.insert(event))));
  }

  /**
   * Runs `work` in one transaction, all or nothing. After some errors (a full disk, I/O) SQLite
   * has already rolled the transaction back itself: a ROLLBACK then would fail with "no
   * transaction is active" and hide the real error, so it is only sent while one is open.
   */
  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** A write, with its failure or its success (after a failure) said. */
  private writing<T>(write: () => T): T {
    let result: T;
    try {
      result = write();
    } catch (error) {
      this.failed('write to', error);
      throw error;
    }
    if (!this.checkFile()) {
      const line = this.health.recover((was) => `the event store ${this.file} works again (it failed: ${was})`);
      if (line !== null) this.log(messages.warning(line));
    }
    return result;
  }

  /** Says (rate-limited) that `doing` the store failed; returns the sentence. */
  private failed(doing: string, error: unknown): string {
    const kind = storeFailureKind(error);
    if (kind === 'damaged') this.isDamaged = true;
    const advice = {
      damaged: '; it is damaged: events are not stored, detection and blocking go on; stopping or restarting the helper moves it aside and starts a new one',
      full: '; the disk is full: events are not stored until there is room, detection and blocking go on',
      locked: '; another program holds it locked: events are not stored meanwhile, detection and blocking go on',
      'read-only': '; it cannot be written: events are not stored, detection and blocking go on',
      io: '; the disk reports an error: events are not stored, detection and blocking go on',
      'cannot-open': '; events are not stored, detection and blocking go on',
      other: '',
    }[kind];
    const problem = `cannot ${doing} the event store ${this.file}: ${failureText(error)}${advice}`;
    this.report(problem);
    return problem;
  }

  private report(problem: string): void {
    const line = this.health.fail(problem, this.clock());
    if (line !== null) this.log(messages.error(line));
  }

  /**
   * Whether the file at the store's path is no longer the one SQLite opened (replaced or
   * deleted under the helper): writes then go on into a file nobody else can see, and a
   * reader thread would open whatever is there now. Said once a minute at most.
   */
  private checkFile(): boolean {
    if (this.identity === null) return false;
    const now = fileIdentity(this.file);
    if (now === this.identity) return false;
    this.report(
      `the event store ${this.file} was ${now === null ? 'deleted' : 'replaced by another file'} while the helper ran: events go on into the file it opened, which nothing else can read; detection and blocking go on; restart the helper to check the file there and start a new store if it cannot be used`,
    );
    return true;
  }

  /** Whether the store works, and if not, why (in words that name the file). */
  status(): StoreStatus {
    this.checkFile();
    return this.health.status();
  }

  /** The store cannot be used at all this run (e.g. an in-memory store standing in for one that could not be opened). */
  setStanding(problem: string): void {
    this.health.setStanding(problem);
  }

  /** The store's path no longer names the file SQLite opened (replaced or deleted). */
  get detached(): boolean {
    return this.identity !== null && fileIdentity(this.file) !== this.identity;
  }

  /** SQLite said the store's own file is damaged (not full, not locked): moved aside at shutdown. */
  get damaged(): boolean {
    return this.isDamaged;
  }

  /** A read on this thread; a failure is said and thrown as a StoreError naming the file. */
  private reading<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw new StoreError(this.failed('read', error));
    }
  }

  /** Reader threads open the file by its name: refused when that name is no longer our store. */
  private async inReader<T>(read: () => Promise<T>): Promise<T> {
    if (this.checkFile()) throw new StoreError(this.health.current ?? `the event store ${this.file} cannot be read`);
    try {
      return await read();
    } catch (error) {
      if (error instanceof StatsBusyError) throw error;
      if (error instanceof ReaderError && error.errcode !== undefined) throw new StoreError(this.failed('read', error));
      throw new StoreError(`cannot read the event store ${this.file}: ${failureText(error)}`);
    }
  }

  /** Newest first, read here on the calling thread (tests, and the in-memory store). */
  events(query: EventQuery): EventPage {
    const { unreadable, ...page } = this.reading(() => queryEvents(this.db, query));
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
    const { unreadable, ...page } = await this.inReader(() => (this.listReader ??= new StoreReader(this.file)).run({ kind: 'events', query }));
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
    return this.reading(() => computeStats(this.db, query, now));
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
    const job = this.statsChain.then(() => this.inReader(() => (this.statsReader ??= new StoreReader(this.file)).run({ kind: 'stats', query, now })));
    this.statsChain = job.then(
      () => undefined,
      () => undefined,
    );
    return job.finally(() => {
      this.statsQueued -= 1;
    });
  }

  /** Every stored block; throws a StoreError (naming the file) when the store cannot be read. */
  blocks(): StoredBlock[] {
    return this.reading(() => this.readBlocks());
  }

  private readBlocks(): StoredBlock[] {
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

  /** Size of the database file(s) on disk, in bytes (0 in memory); the last known size when it cannot be read. */
  sizeBytes(): number {
    try {
      const row = this.db.prepare('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()').get() as { n: number };
      return (this.lastSize = Number(row.n));
    } catch (error) {
      this.failed('read', error);
      return this.lastSize;
    }
  }

  /**
   * How many times detection blocked this address (its 'blocked' scan events still in the
   * store): the repeat-offender count, which survives a restart. Throws when the store cannot be read.
   */
  countDetectionBlocks(address: string): number {
    return this.reading(() => Number((this.db.prepare("SELECT count(*) AS n FROM events WHERE host = ? AND type = 'scan' AND action = 'blocked'").get(address) as { n: number }).n));
  }

  /** Writes scan records (one per scan, updated as it goes on), all in one transaction. */
  recordScans(records: readonly ScanRecord[]): void {
    this.writing(() => {
      const upsert = this.db.prepare('INSERT INTO scans (id, scanner, last_probe, body) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_probe = excluded.last_probe, body = excluded.body');
      this.transaction(() => {
        for (const record of records) upsert.run(record.id, record.scanner, record.lastProbe, JSON.stringify(record));
      });
    });
  }

  /** The most recent scan records, latest probe first. Throws a StoreError when the store cannot be read. */
  scans(limit: number): ScanRecord[] {
    return this.reading(() => (this.db.prepare('SELECT body FROM scans ORDER BY last_probe DESC LIMIT ?').all(limit) as Array<{ body: string }>).map((row) => JSON.parse(row.body) as ScanRecord));
  }

  /** Events stored; the last known count when the store cannot be read (status() says why). */
  countEvents(): number {
    try {
      return (this.lastCount = Number((this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n));
    } catch (error) {
      this.failed('read', error);
      return this.lastCount;
    }
  }

  /** Deletes events older than the retention; returns how many went (0 when the store cannot be written, which is said). */
  prune(olderThan: number): number {
    try {
      return this.writing(() => {
        this.db.prepare('DELETE FROM scans WHERE last_probe < ?').run(olderThan);
        return Number(this.db.prepare('DELETE FROM events WHERE at < ?').run(olderThan).changes);
      });
    } catch {
      return 0;
    }
  }

  close(): void {
    this.statsReader?.terminate();
    this.statsReader = null;
    this.listReader?.terminate();
    this.listReader = null;
    if (this.db.isOpen) this.db.close();
  }
}

/**
 * Records the end of every stored block (e.g. after --remove-firewall); returns how many. A
 * damaged store has nothing to forget: the next start moves it aside and re-applies nothing
 * from it.
 */
export function forgetStoredBlocks(file: string, reason: string, now = Date.now()): number {
  if (file === '' || !existsSync(file)) return 0;
  let store: EventStore | null = null;
  try {
    store = new EventStore(file);
    store.verify(0);
  } catch (error) {
    store?.close();
    if (storeFailureKind(error) === 'damaged') return 0;
    throw error;
  }
  try {
    const blocks = store.blocks();
    for (const block of blocks) store.record({ type: 'block', change: 'removed', at: now, address: block.address, reason, until: null });
    return blocks.length;
  } finally {
    store.close();
  }
}
