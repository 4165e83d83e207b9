// Whether the event store works, in words: what kind of SQLite failure an error is, what a
// store file's header says about its length, the name a damaged store is moved aside to, and
// the store's current problem with its log lines rate-limited. Pure: no I/O, the clock arrives
// with each call. Detection never waits on any of this; it only decides what is said.

import { cleanText } from '../reporters/clean-text.js';

/** How a failed store operation went wrong, from SQLite's primary result code. */
export type StoreFailureKind = 'damaged' | 'full' | 'locked' | 'read-only' | 'io' | 'cannot-open' | 'other';

/** SQLite primary result codes (https://sqlite.org/rescode.html) that say what to do. */
const KIND_BY_CODE: ReadonlyMap<number, StoreFailureKind> = new Map([
  [11, 'damaged'], // SQLITE_CORRUPT: "database disk image is malformed"
  [26, 'damaged'], // SQLITE_NOTADB: "file is not a database"
  [13, 'full'], // SQLITE_FULL
  [5, 'locked'], // SQLITE_BUSY: "database is locked"
  [6, 'locked'], // SQLITE_LOCKED
  [8, 'read-only'], // SQLITE_READONLY
  [10, 'io'], // SQLITE_IOERR
  [14, 'cannot-open'], // SQLITE_CANTOPEN
]);

/** What kind of failure `error` is (node:sqlite puts SQLite's extended code in `errcode`). */
export function storeFailureKind(error: unknown): StoreFailureKind {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return 'other';
  return KIND_BY_CODE.get(code & 0xff) ?? 'other';
}

/** The error's own sentence, as short and clean as a log line and the protocol need. */
export function failureText(error: unknown): string {
  const text = error instanceof Error ? ((error as { errstr?: unknown }).errstr === undefined ? error.message : String((error as { errstr?: unknown }).errstr)) : String(error);
  return cleanText(text, 300);
}

/** A store that cannot be used for what was asked; the message names the file and why. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

const MAGIC = 'SQLite format 3\u0000';
/** A database header is this long; anything shorter but not empty is not a database. */
export const HEADER_BYTES = 100;

/**
 * What the first bytes of a store file and its length say, before SQLite reads it: null
 * when nothing is wrong as far as they tell (an empty file is a new store), else why the
 * file cannot be the store. Catches a file cut short (a copy or a disk that lost its end),
 * which SQLite itself only notices once a query reaches a missing page.
 */
export function headerProblem(header: Uint8Array, fileSize: number): string | null {
  if (fileSize === 0) return null;
  if (header.length < HEADER_BYTES || fileSize < HEADER_BYTES) return 'file is not a database (shorter than a database header)';
  if (new TextDecoder('latin1').decode(header.subarray(0, 16)) !== MAGIC) return 'file is not a database';
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return 'file is not a database (bad page size)';
  // The page count in the header is only valid when the change counter matches the
  // version-valid-for number (older writers did not keep it; SQLite then uses the length).
  const pages = view.getUint32(28);
  const valid = view.getUint32(24) === view.getUint32(92) && pages > 0;
  if (valid && pages * pageSize > fileSize) {
    return `database disk image is malformed (the file is ${fileSize} bytes, its header says ${pages} pages of ${pageSize} bytes: it was cut short)`;
  }
  return null;
}

/** UTC as 20261207T204040Z: sorts by time, no characters a shell or a file system minds. */
export function utcStamp(at: number): string {
  return new Date(at)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Where a damaged store goes: beside it, named for when; `attempt` > 0 when that name is taken. */
export function corruptName(file: string, at: number, attempt = 0): string {
  return `${file}.corrupt-${utcStamp(at)}${attempt === 0 ? '' : `-${attempt}`}`;
}

/** The companions SQLite keeps beside a WAL-mode store; they travel with it. */
export const COMPANION_SUFFIXES = ['-wal', '-shm'] as const;

/** A repeated problem is logged at most this often. */
export const REPEAT_LOG_MS = 60_000;

export interface StoreStatus {
  readonly ok: boolean;
  readonly problem: string | null;
}

/**
 * The store's current problem and what to log about it: a new problem is logged at once, the
 * same one again at most once a minute (a full disk fails every write: one line, not
 * thousands), and its end once. A standing problem (the store could not be used at all at
 * start) never ends while the helper runs.
 */
export class StoreHealth {
  private problem: string | null = null;
  private standing: string | null = null;
  private loggedAt = -Infinity;

  /** A problem that lasts until the helper restarts (e.g. running on an in-memory store). */
  setStanding(problem: string): void {
    this.standing = cleanText(problem);
  }

  /** Records `problem` at `now`; returns the line to log, or null when it was said less than a minute ago. */
  fail(problem: string, now: number): string | null {
    const clean = cleanText(problem);
    const repeat = clean === this.problem;
    this.problem = clean;
    if (repeat && now - this.loggedAt < REPEAT_LOG_MS) return null;
    this.loggedAt = now;
    return clean;
  }

  /** The operation that failed works again; returns the line to log, or null when nothing was wrong. */
  recover(describe: (problem: string) => string): string | null {
    const was = this.problem;
    if (was === null) return null;
    this.problem = null;
    this.loggedAt = -Infinity;
    return describe(was);
  }

  get current(): string | null {
    return this.standing ?? this.problem;
  }

  status(): StoreStatus {
    const problem = this.current;
    return { ok: problem === null, problem };
  }
}
