// A store that cannot be used never stops the helper: at start a damaged one (garbage, cut
// short, a damaged page) is moved aside with its -wal and -shm and a new one started, one that
// is unsafe to touch is left alone and the helper keeps events in memory; while running, a
// store replaced, deleted or damaged under it says so in status() and its reads fail with the
// file named. Real SQLite files in a temporary directory.

import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventStore, StoreError, forgetStoredBlocks } from '../../../privileged-helper/store/event-store.js';
import { openStore } from '../../../privileged-helper/store/open-store.js';
import type { DetectionEvent } from '../../../shared/domain/detection-event.js';

const AT = Date.UTC(2026, 11, 7, 20, 40, 5);
const STAMP = '20261207T204005Z';

const scan = (i: number): DetectionEvent => ({
  type: 'scan',
  at: 1_000 + i,
  source: `198.18.${(i >> 8) & 255}.${i & 255}`,
  family: 4,
  port: 1 + (i % 1000),
  protocol: 'tcp',
  kind: 'syn',
  mode: 'stcp',
  action: 'blocked',
});

/** A real store of `events` scans and one block, closed (checkpointed into the main file). */
function makeStore(file: string, events: number): void {
  const store = new EventStore(file);
  store.recordBatch(Array.from({ length: events }, (_, i) => scan(i)));
  store.record({ type: 'block', change: 'added', at: 5, address: '198.18.9.9', reason: 'kept', until: null });
  store.close();
}

/** Overwrites one page in the middle of a store with garbage, in place. */
function damagePage(file: string, page: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, (page - 1) * 4096);
  } finally {
    closeSync(fd);
  }
}

describe('a store that fails', () => {
  let base: string;
  let serial = 0;
  /** A fresh directory of root's for each case. */
  const fresh = async () => {
    const dir = join(base, String(++serial));
    await mkdir(dir, { mode: 0o700 });
    return dir;
  };
  const open = async (file: string) => {
    const lines: string[] = [];
    const store = await openStore(file, { log: (line) => lines.push(line), clock: () => AT });
    return { store, lines };
  };
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'portsentry-store-fail-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('at start: garbage is moved aside with its -wal and -shm, one line names both files and the error, and a new store works', async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    await writeFile(file, Buffer.alloc(300_000, 'not sqlite '));
    await writeFile(`${file}-wal`, 'wal');
    await writeFile(`${file}-shm`, 'shm');
    const { store, lines } = await open(file);
    try {
      const moved = `${file}.corrupt-${STAMP}`;
      assert.deepEqual(lines, [
        `adminalert: ERROR: the event store ${file} could not be opened (file is not a database); moved it to ${moved}; started a new, empty store: earlier events and stored blocks are not in it`,
      ]);
      assert.equal((await readFile(moved, 'utf8')).slice(0, 11), 'not sqlite ');
      assert.equal(await readFile(`${moved}-wal`, 'utf8'), 'wal');
      assert.equal(await readFile(`${moved}-shm`, 'utf8'), 'shm');
      assert.equal(store.file, file);
      store.record(scan(1));
      store.record({ type: 'block', change: 'added', at: 2, address: '198.18.1.1', reason: 'r', until: null });
      assert.equal(store.countEvents(), 2);
      assert.deepEqual(
        store.blocks().map((b) => b.address),
        ['198.18.1.1'],
      );
      assert.deepEqual(store.status(), { ok: true, problem: null });
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    } finally {
      store.close();
    }
  });

  it('at start: a real store cut short is moved aside; a name already taken gets a counter', async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    makeStore(file, 20_000);
    const { size } = await stat(file);
    await truncate(file, Math.floor(size / 2));
    await writeFile(`${file}.corrupt-${STAMP}`, 'an earlier one');
    const { store, lines } = await open(file);
    try {
      assert.equal(lines.length, 1);
      assert.match(
        lines[0]!,
        /could not be opened \(database disk image is malformed \(the file is \d+ bytes, its header says \d+ pages of 4096 bytes: it was cut short\)\); moved it to .*\.corrupt-20261207T204005Z-1;/,
      );
      assert.equal(await readFile(`${file}.corrupt-${STAMP}`, 'utf8'), 'an earlier one', 'never over another file');
      assert.equal((await stat(`${file}.corrupt-${STAMP}-1`)).size, Math.floor(size / 2));
      assert.equal(store.countEvents(), 0);
      assert.deepEqual(store.status(), { ok: true, problem: null });
    } finally {
      store.close();
    }
  });

  it("at start: a damaged page start-up would not read is found by a small store's quick_check", async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    makeStore(file, 20_000);
    damagePage(file, 40);
    const unchecked = new EventStore(file);
    try {
      unchecked.verify(0); // the start-up queries alone do not reach page 40
    } finally {
      unchecked.close();
    }
    const { store, lines } = await open(file);
    try {
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /could not be opened \(database disk image is malformed[^;]*\); moved it to /);
    } finally {
      store.close();
    }
  });

  it('--remove-firewall on a damaged store: nothing to forget (the next start moves it aside), the file left as it is', async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    await writeFile(file, Buffer.alloc(8192, 'garbage '));
    assert.equal(forgetStoredBlocks(file, 'removed'), 0);
    assert.equal((await readFile(file, 'utf8')).slice(0, 8), 'garbage ');
    makeStore(join(dir, 'good.db'), 10);
    assert.equal(forgetStoredBlocks(join(dir, 'good.db'), 'removed'), 1);
  });

  it('at start: a healthy store is used as it is, silently', async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    makeStore(file, 100);
    const { store, lines } = await open(file);
    try {
      assert.deepEqual(lines, []);
      assert.equal(store.countEvents(), 101);
      assert.deepEqual(
        (await readdir(dir)).filter((name) => name.includes('corrupt')),
        [],
      );
    } finally {
      store.close();
    }
  });

  it('at start: a store behind a symlink is not touched; the helper runs on a store in memory and says so until restarted', async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, file);
    const { store, lines } = await open(file);
    try {
      assert.equal(lines.length, 1);
      assert.match(
        lines[0]!,
        new RegExp(
          `^adminalert: ERROR: the event store ${file} could not be opened \\(event store ${file} is a symbolic link; refusing to follow it\\); it was left as it is; events and blocks are kept in memory only until the helper restarts$`,
        ),
      );
      assert.equal(await readFile(victim, 'utf8'), 'precious');
      assert.deepEqual((await readdir(dir)).sort(), ['events.db', 'victim']);
      store.record(scan(1));
      assert.equal(store.countEvents(), 1, 'events are kept, in memory');
      assert.equal(store.status().ok, false);
      assert.match(store.status().problem ?? '', /kept in memory only until the helper restarts/);
    } finally {
      store.close();
    }
  });

  it('while running: a store file replaced under the helper is degraded, its reads refused with the file named, writes go on, said once a minute', async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    const lines: string[] = [];
    const store = new EventStore(file, { log: (line) => lines.push(line), clock: () => AT });
    try {
      store.record(scan(1));
      await writeFile(join(dir, 'other'), Buffer.alloc(8192, 'garbage '));
      await rename(join(dir, 'other'), file);
      store.record(scan(2));
      store.record(scan(3));
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0]!, new RegExp(`^adminalert: ERROR: the event store ${file} was replaced by another file while the helper ran`));
      const status = store.status();
      assert.equal(status.ok, false);
      assert.match(status.problem ?? '', /was replaced by another file while the helper ran.*restart the helper/);
      await assert.rejects(store.eventsInBackground({ limit: 5 }), (error: unknown) => error instanceof StoreError && error.message.includes(file));
      await assert.rejects(store.statsInBackground({ buckets: 5, top: 5, maxPorts: 5 }, AT), (error: unknown) => error instanceof StoreError && error.message.includes(file));
      assert.equal(store.detached, true);
      assert.equal(store.damaged, false, 'replaced is not damaged: the file there is not ours to move');
      await rm(file);
      assert.match(store.status().problem ?? '', /was deleted while the helper ran/);
    } finally {
      store.close();
    }
  });

  it('while running: a damaged page met by a read makes the store degraded and damaged, the read fails with the file named, a later write that works clears it', async () => {
    const dir = await fresh();
    const file = join(dir, 'events.db');
    makeStore(file, 20_000);
    const lines: string[] = [];
    const store = new EventStore(file, { log: (line) => lines.push(line), clock: () => AT });
    try {
      damagePage(file, 40);
      assert.throws(
        () => store.stats({ buckets: 5, top: 5, maxPorts: 5 }, AT),
        (error: unknown) => error instanceof StoreError && error.message.startsWith(`cannot read the event store ${file}: database disk image is malformed; it is damaged`),
      );
      await assert.rejects(store.statsInBackground({ buckets: 5, top: 5, maxPorts: 5 }, AT), (error: unknown) => error instanceof StoreError && error.message.includes(file));
      assert.equal(store.damaged, true);
      assert.equal(store.status().ok, false);
      assert.equal(lines.length, 1, 'the same problem twice is one line');
      store.record(scan(1));
      assert.deepEqual(store.status(), { ok: true, problem: null });
      assert.match(lines[1] ?? '', /^adminalert: WARNING: the event store .* works again/);
    } finally {
      store.close();
    }
  });
});
