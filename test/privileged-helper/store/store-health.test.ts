// The pure parts of a failing store: what kind of failure an SQLite error is, what a file's
// header and length say, the name a damaged store is moved to, and how often a standing
// problem is logged.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corruptName, failureText, headerProblem, REPEAT_LOG_MS, StoreHealth, storeFailureKind, utcStamp } from '../../../privileged-helper/store/store-health.js';

const sqliteError = (errcode: number, errstr: string) => Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr });

/** A database header: page size, page count, and whether the count is valid (change counter = version-valid-for). */
function header(pageSize: number, pages: number, countValid = true): Uint8Array {
  const bytes = new Uint8Array(100);
  bytes.set(new TextEncoder().encode('SQLite format 3\u0000'));
  const view = new DataView(bytes.buffer);
  view.setUint16(16, pageSize === 65536 ? 1 : pageSize);
  view.setUint32(24, 7);
  view.setUint32(28, pages);
  view.setUint32(92, countValid ? 7 : 6);
  return bytes;
}

describe('store health', () => {
  it('tells damage from a full disk, a lock, a read-only file and anything else, extended codes included', () => {
    assert.equal(storeFailureKind(sqliteError(26, 'file is not a database')), 'damaged');
    assert.equal(storeFailureKind(sqliteError(11, 'database disk image is malformed')), 'damaged');
    assert.equal(storeFailureKind(sqliteError(11 | (1 << 8), 'SQLITE_CORRUPT_VTAB')), 'damaged');
    assert.equal(storeFailureKind(sqliteError(13, 'database or disk is full')), 'full');
    assert.equal(storeFailureKind(sqliteError(5, 'database is locked')), 'locked');
    assert.equal(storeFailureKind(sqliteError(8 | (3 << 8), 'attempt to write a readonly database')), 'read-only');
    assert.equal(storeFailureKind(sqliteError(10 | (13 << 8), 'disk I/O error')), 'io');
    assert.equal(storeFailureKind(new Error('ENOENT')), 'other');
    assert.equal(storeFailureKind(null), 'other');
    assert.equal(failureText(sqliteError(26, 'file is not a database')), 'file is not a database');
    assert.equal(failureText(new Error('line\nbreak')), 'line break');
  });

  it("reads a store's header: empty is new, garbage is not a database, a file shorter than its header says was cut short", () => {
    assert.equal(headerProblem(new Uint8Array(0), 0), null);
    assert.match(headerProblem(new Uint8Array(100).fill(0x41), 4096) ?? '', /^file is not a database/);
    assert.match(headerProblem(new Uint8Array(20), 20) ?? '', /^file is not a database/);
    assert.equal(headerProblem(header(4096, 10), 40960), null);
    assert.equal(headerProblem(header(4096, 10), 81920), null, 'longer than the header says: fine (a WAL checkpoint may trail)');
    assert.equal(headerProblem(header(65536, 2), 131072), null);
    assert.match(headerProblem(header(4096, 10), 40959) ?? '', /^database disk image is malformed \(the file is 40959 bytes, its header says 10 pages of 4096 bytes: it was cut short\)$/);
    assert.equal(headerProblem(header(4096, 10, false), 4096), null, 'a count SQLite itself would not trust is not judged');
    assert.match(headerProblem(header(1000, 1), 4096) ?? '', /bad page size/);
  });

  it('names a moved-aside store for the UTC second, beside the original, with a counter when taken', () => {
    const at = Date.UTC(2026, 11, 7, 20, 40, 5, 123);
    assert.equal(utcStamp(at), '20261207T204005Z');
    assert.equal(corruptName('/x/events.db', at), '/x/events.db.corrupt-20261207T204005Z');
    assert.equal(corruptName('/x/events.db', at, 2), '/x/events.db.corrupt-20261207T204005Z-2');
  });

  it('logs a new problem at once, the same one at most once a minute, its end once, and a standing one for good', () => {
    const health = new StoreHealth();
    assert.deepEqual(health.status(), { ok: true, problem: null });
    assert.equal(health.fail('disk full', 1_000), 'disk full');
    assert.equal(health.fail('disk full', 2_000), null);
    assert.equal(health.fail('disk full', 1_000 + REPEAT_LOG_MS - 1), null);
    assert.equal(health.fail('disk full', 1_000 + REPEAT_LOG_MS), 'disk full');
    assert.equal(health.fail('locked', 1_000 + REPEAT_LOG_MS + 1), 'locked', 'a different problem is said at once');
    assert.deepEqual(health.status(), { ok: false, problem: 'locked' });
    assert.equal(
      health.recover((was) => `works again after ${was}`),
      'works again after locked',
    );
    assert.equal(
      health.recover(() => 'again'),
      null,
    );
    assert.deepEqual(health.status(), { ok: true, problem: null });
    assert.equal(health.fail('locked', 1_000 + REPEAT_LOG_MS + 2), 'locked', 'after recovering, the same problem is news again');
    health.setStanding('kept in memory\nonly');
    health.recover(() => '');
    assert.deepEqual(health.status(), { ok: false, problem: 'kept in memory only' });
  });
});
