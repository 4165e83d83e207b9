import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventStore, StatsBusyError, forgetStoredBlocks } from '../../../privileged-helper/store/event-store.js';
import { reconcileBlocks } from '../../../privileged-helper/firewall/reconcile-blocks.js';
import type { BlockBackend } from '../../../privileged-helper/firewall/block-backend.js';
import type { DetectionEvent } from '../../../shared/domain/detection-event.js';

const scan = (at: number, source: string, port: number, extra: Partial<DetectionEvent> = {}): DetectionEvent => ({
  type: 'scan',
  at,
  source,
  family: source.includes(':') ? 6 : 4,
  port,
  protocol: 'tcp',
  kind: 'syn',
  mode: 'stcp',
  action: 'blocked',
  ...extra,
});

/** An in-memory firewall with the BlockBackend contract, to observe reconciliation. */
class MemoryFirewall implements BlockBackend {
  readonly name = 'memory';
  readonly blocked = new Map<string, number | undefined>();
  async start() {}
  describeBlock(address: string) {
    return `memory ${address}`;
  }
  async block(address: string, options: { timeoutSeconds?: number } = {}) {
    this.blocked.set(address, options.timeoutSeconds);
  }
  async unblock(address: string) {
    this.blocked.delete(address);
  }
  async list() {
    return [...this.blocked.keys()];
  }
  async stop() {}
  async remove() {}
}

describe('EventStore (SQLite on disk)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records events with increasing ids and filters and pages newest first', () => {
    const store = new EventStore(join(dir, 'a.db'));
    const ids = [
      store.record(scan(1000, '198.18.0.1', 1)),
      store.record(scan(2000, '198.18.0.2', 79, { kind: 'fin', protocol: 'tcp' })),
      store.record(scan(3000, '198.18.0.1', 7, { protocol: 'udp', kind: 'udp', mode: 'sudp', action: 'ignored', reason: 'on the ignore list' })),
      store.record({ type: 'block', change: 'added', at: 3500, address: '198.18.0.1', reason: 'syn probe', until: null }),
    ].map((e) => e.id);
    assert.deepEqual(ids, [1, 2, 3, 4]);
    assert.deepEqual(
      store.events({ limit: 10 }).events.map((e) => e.id),
      [4, 3, 2, 1],
    );
    assert.deepEqual(
      store.events({ limit: 10, host: '198.18.0.1' }).events.map((e) => e.id),
      [4, 3, 1],
    );
    assert.deepEqual(
      store.events({ limit: 10, since: 2000, until: 3000 }).events.map((e) => e.id),
      [3, 2],
    );
    assert.deepEqual(
      store.events({ limit: 10, kind: 'fin' }).events.map((e) => e.id),
      [2],
    );
    assert.deepEqual(
      store.events({ limit: 10, protocol: 'udp', action: 'ignored' }).events.map((e) => e.id),
      [3],
    );
    assert.deepEqual(
      store.events({ limit: 10, port: 79 }).events.map((e) => e.id),
      [2],
    );
    const first = store.events({ limit: 2 });
    assert.deepEqual([first.events.map((e) => e.id), first.nextCursor], [[4, 3], 3]);
    const second = store.events({ limit: 2, before: first.nextCursor! });
    assert.deepEqual([second.events.map((e) => e.id), second.nextCursor], [[2, 1], null]);
    assert.deepEqual(store.events({ limit: 10 }).events[1], { ...scan(3000, '198.18.0.1', 7, { protocol: 'udp', kind: 'udp', mode: 'sudp', action: 'ignored', reason: 'on the ignore list' }), id: 3 });
    store.close();
  });

  it('keeps blocks in step with block events, survives reopening, prunes old events', () => {
    const file = join(dir, 'b.db');
    let store = new EventStore(file);
    store.record({ type: 'block', change: 'added', at: 10, address: '198.18.0.5', reason: 'scan', until: 99_999 });
    store.record({ type: 'block', change: 'added', at: 11, address: 'fd00::5', reason: 'by hand', until: null });
    store.record({ type: 'block', change: 'removed', at: 12, address: '198.18.0.5', reason: 'unblocked by hand', until: null });
    store.close();
    store = new EventStore(file);
    assert.deepEqual(store.blocks(), [{ address: 'fd00::5', since: 11, until: null, reason: 'by hand' }]);
    assert.equal(store.countEvents(), 3);
    assert.equal(store.prune(12), 2);
    assert.equal(store.countEvents(), 1);
    store.close();
    assert.equal(forgetStoredBlocks(file, 'firewall removed', 50), 1);
    store = new EventStore(file);
    assert.deepEqual(store.blocks(), []);
    assert.equal(store.events({ limit: 1 }).events[0]?.type === 'block' && store.events({ limit: 1 }).events[0]?.reason, 'firewall removed');
    store.close();
    assert.equal(forgetStoredBlocks(join(dir, 'none.db'), 'x'), 0);
  });

  it('keeps one record per scan, updated as it goes on, newest first, across reopening; counts detection blocks; prunes both', () => {
    const file = join(dir, 'scans.db');
    let store = new EventStore(file);
    const record = (scanner: string, first: number, last: number, outcome: 'blocked' | 'watched') => ({
      id: `${scanner}@${first}`,
      scanner,
      family: 4 as const,
      firstProbe: first,
      lastProbe: last,
      ports: { tcp: [445], udp: [] },
      kinds: ['syn' as const],
      protocols: ['tcp' as const],
      probes: 1,
      outcome,
    });
    store.recordScans([record('198.18.0.7', 1000, 1000, 'watched'), record('198.18.0.8', 2000, 2000, 'watched')]);
    store.recordScans([{ ...record('198.18.0.7', 1000, 3000, 'blocked'), probes: 5 }]);
    store.close();
    store = new EventStore(file);
    assert.deepEqual(
      store.scans(10).map((r) => [r.scanner, r.lastProbe, r.probes, r.outcome]),
      [
        ['198.18.0.7', 3000, 5, 'blocked'],
        ['198.18.0.8', 2000, 1, 'watched'],
      ],
    );
    assert.equal(store.scans(1).length, 1);
    const blocked = {
      type: 'scan' as const,
      at: 1000,
      source: '198.18.0.7',
      family: 4 as const,
      port: 445,
      protocol: 'tcp' as const,
      kind: 'syn' as const,
      mode: 'atcp' as const,
      action: 'blocked' as const,
    };
    store.recordBatch([blocked, { ...blocked, at: 2000 }, { ...blocked, action: 'already-blocked' }, { ...blocked, source: '198.18.0.8' }]);
    assert.equal(store.countDetectionBlocks('198.18.0.7'), 2);
    assert.equal(store.countDetectionBlocks('198.18.0.9'), 0);
    store.prune(2500);
    assert.deepEqual(
      store.scans(10).map((r) => r.scanner),
      ['198.18.0.7'],
    );
    store.close();
  });

  it('reconciles store and firewall at start: re-applies with time left, lifts expired, adopts strays', async () => {
    const store = new EventStore(':memory:');
    const now = 1_000_000;
    store.record({ type: 'block', change: 'added', at: 1, address: '198.18.0.1', reason: 'forever', until: null });
    store.record({ type: 'block', change: 'added', at: 1, address: '198.18.0.2', reason: 'still on', until: now + 90_500 });
    store.record({ type: 'block', change: 'added', at: 1, address: '198.18.0.3', reason: 'lapsed', until: now - 1 });
    const firewall = new MemoryFirewall();
    firewall.blocked.set('198.18.0.3', undefined);
    firewall.blocked.set('198.18.0.4', undefined); // blocked, but the store never heard of it
    const restored: Array<[string, number | null]> = [];
    const lines: string[] = [];
    const summary = await reconcileBlocks({ store, firewall, clock: () => now, log: (l) => lines.push(l), restore: (a, u) => restored.push([a, u]) });
    assert.deepEqual(summary, { reapplied: 2, expired: 1, adopted: 1, failed: 0 });
    assert.deepEqual([...firewall.blocked.entries()].sort(), [
      ['198.18.0.1', undefined],
      ['198.18.0.2', 91],
      ['198.18.0.4', undefined],
    ]);
    assert.deepEqual(restored.sort(), [
      ['198.18.0.1', null],
      ['198.18.0.2', now + 90_500],
      ['198.18.0.4', null],
    ]);
    assert.deepEqual(
      store
        .blocks()
        .map((b) => b.address)
        .sort(),
      ['198.18.0.1', '198.18.0.2', '198.18.0.4'],
    );
    assert.ok(store.events({ limit: 10, host: '198.18.0.3' }).events.some((e) => e.type === 'block' && e.change === 'removed' && /expired/.test(e.reason)));
    // Nothing failed: a plain notice, not a WARNING (logcheck and friends would flag every start).
    assert.ok(lines.includes('adminalert: blocks at start: 2 re-applied from the store, 1 expired, 1 adopted from the firewall, 0 failed'), lines.join('\n'));
    const again = await reconcileBlocks({ store, firewall, clock: () => now, log: () => undefined, restore: () => undefined });
    assert.deepEqual(again, { reapplied: 3, expired: 0, adopted: 0, failed: 0 }, 'idempotent');
    store.close();
  });

  it('says WARNING about the blocks at start only when one could not be re-applied', async () => {
    const store = new EventStore(':memory:');
    store.record({ type: 'block', change: 'added', at: 1, address: '198.18.0.1', reason: 'forever', until: null });
    store.record({ type: 'block', change: 'added', at: 1, address: '198.18.0.2', reason: 'forever', until: null });
    const firewall = new MemoryFirewall();
    const block = firewall.block.bind(firewall);
    firewall.block = async (address, options) => {
      if (address === '198.18.0.2') throw new Error('nft: table is gone');
      await block(address, options);
    };
    const lines: string[] = [];
    await reconcileBlocks({ store, firewall, clock: () => 1000, log: (l) => lines.push(l), restore: () => undefined });
    assert.ok(lines.includes('adminalert: WARNING: blocks at start: 1 re-applied from the store, 0 expired, 0 adopted from the firewall, 1 failed'), lines.join('\n'));
    store.close();
  });
  it('stats aggregate the whole store over a range, not a page of it, and stay bounded', () => {
    const store = new EventStore(':memory:');
    // 3,000 probes from 30 sources over an hour, plus one block event and a host's own scan.
    const base = 1_700_000_000_000;
    const batch: DetectionEvent[] = [];
    for (let i = 0; i < 3000; i++) batch.push(scan(base + i * 1200, `198.18.1.${i % 30}`, 1 + (i % 2500), { kind: i % 3 === 0 ? 'fin' : 'syn', action: i % 30 === i ? 'blocked' : 'already-blocked' }));
    store.recordBatch(batch);
    store.record({ type: 'block', change: 'added', at: base, address: '198.18.1.0', reason: 'syn', until: null });
    const all = store.stats({ buckets: 60, top: 10, maxPorts: 2048 }, base + 3_600_000);
    assert.equal(all.total, 3000, 'block events are not scans');
    assert.equal(all.sources, 30);
    assert.equal(all.since, base, 'an open range starts at the oldest scan');
    assert.equal(all.until, base + 3_600_000);
    assert.equal(
      all.timeline.reduce((n, b) => n + b.count, 0),
      3000,
      'every scan falls in one step',
    );
    assert.ok(all.timeline.length <= 60 && all.timeline.length >= 59, String(all.timeline.length));
    assert.equal(all.timeline[0]!.start, base);
    assert.deepEqual(all.topSources.length, 10);
    assert.equal(all.topSources[0]!.count, 100);
    assert.equal(all.distinctPorts, 2500);
    assert.equal(all.ports.length, 2048, 'the port list is bounded');
    assert.deepEqual(
      all.ports.slice(0, 2).map((p) => p.port),
      [1, 2],
    );
    assert.deepEqual(all.kinds, [
      { kind: 'syn', count: 2000 },
      { kind: 'fin', count: 1000 },
    ]);
    assert.deepEqual(all.actions, [
      { action: 'already-blocked', count: 2970 },
      { action: 'blocked', count: 30 },
    ]);
    // Paging the list changes nothing: the figures come from the store.
    store.events({ limit: 100 });
    assert.deepEqual(store.stats({ buckets: 60, top: 10, maxPorts: 2048 }, base + 3_600_000), all);

    const one = store.stats({ host: '198.18.1.7', since: base, until: base + 600_000, buckets: 10, top: 10, maxPorts: 2048 }, base + 3_600_000);
    // Source 7 probes at i = 7, 37, 67, ...: i * 1200 <= 600,000 -> i <= 500: 17 probes.
    assert.equal(one.total, 17);
    assert.equal(one.sources, 1);
    assert.equal(one.firstSeen, base + 7 * 1200);
    assert.equal(one.lastSeen, base + 487 * 1200);
    assert.deepEqual(
      one.ports.map((p) => p.port),
      [8, 38, 68, 98, 128, 158, 188, 218, 248, 278, 308, 338, 368, 398, 428, 458, 488],
    );
    assert.equal(one.timeline.length, 10);
    assert.equal(one.bucketMs, 61_000, '600,001 ms in 10 steps, rounded up to whole seconds');

    const empty = store.stats({ host: '198.18.9.9', buckets: 60, top: 10, maxPorts: 2048 }, base);
    assert.deepEqual([empty.total, empty.firstSeen, empty.timeline.length, empty.ports], [0, null, 1, []]);
    // Hostile host text never reaches SQL as SQL: it is a bound parameter.
    assert.equal(store.stats({ host: "' OR 1=1 --", buckets: 1, top: 10, maxPorts: 10 }, base).total, 0);
    store.close();
  });
  it('stats for the RPC run on a worker thread: the same figures, the daemon thread stays free, a queue bound', async () => {
    const file = join(dir, 'stats.db');
    const store = new EventStore(file);
    const base = 1_700_000_000_000;
    const batch: DetectionEvent[] = [];
    for (let i = 0; i < 20_000; i++) batch.push(scan(base + i * 10, `198.18.${(i >> 8) & 255}.${i & 255}`, 1 + (i % 3000)));
    store.recordBatch(batch);
    const query = { buckets: 48, top: 10, maxPorts: 2048 };
    const inPlace = store.stats(query, base + 300_000);
    // While the worker computes, this thread keeps turning: detection would not wait.
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns += 1;
      setImmediate(spin);
    };
    setImmediate(spin);
    const background = await store.statsInBackground(query, base + 300_000);
    done = true;
    assert.deepEqual(background, inPlace);
    assert.ok(turns > 1, `the event loop turned ${turns} times during the computation`);
    // More than a few waiting requests are refused, not piled up.
    const many = await Promise.allSettled(Array.from({ length: 10 }, () => store.statsInBackground(query, base + 300_000)));
    const refused = many.filter((r) => r.status === 'rejected');
    assert.ok(refused.length >= 5 && refused.every((r) => (r as PromiseRejectedResult).reason instanceof StatsBusyError), `${refused.length} refused`);
    assert.ok(many.some((r) => r.status === 'fulfilled'));
    // Writes go on while the worker reads (WAL), and the next answer sees them.
    store.record(scan(base + 299_000, '198.18.200.1', 4000));
    assert.equal((await store.statsInBackground(query, base + 300_000)).total, 20_001);
    store.close();
  });
});

describe('EventStore: a bad stored row never breaks a page', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-bad-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a long multi-line reason (as an older helper stored it) is cleaned on read; an unreadable row is skipped and counted', async () => {
    const { DatabaseSync } = await import('node:sqlite');
    const { eventsListResultSchema, MAX_HELPER_TEXT } = await import('../../../shared/protocol/schemas.js');
    const file = join(dir, 'events.db');
    const store = new EventStore(file);
    store.record(scan(1, '198.18.0.21', 1));
    // Rows written behind the store's back, as a previous version (or a damaged file) left them.
    const db = new DatabaseSync(file);
    const insert = db.prepare('INSERT INTO events (at, type, host, port, protocol, kind, action, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const chatty = `KILL_RUN_CMD failed:\n${'x'.repeat(5000)}\r\n\u001b[31mred\u001b[0m\nlast line`;
    insert.run(2, 'scan', '198.18.0.22', 2, 'tcp', 'syn', 'block-failed', JSON.stringify(scan(2, '198.18.0.22', 2, { action: 'block-failed', reason: chatty })));
    insert.run(3, 'scan', '198.18.0.23', 3, 'tcp', 'syn', 'blocked', '{not json');
    insert.run(4, 'scan', '198.18.0.24', 4, 'tcp', 'syn', 'blocked', JSON.stringify({ type: 'scan', at: 4, source: 'not an address' }));
    db.close();
    store.record(scan(5, '198.18.0.25', 5));

    const page = store.events({ limit: 100 });
    assert.deepEqual(
      page.events.map((e) => e.at),
      [5, 2, 1],
    );
    const cleaned = page.events.find((e) => e.at === 2);
    assert.ok(cleaned?.type === 'scan' && cleaned.reason !== undefined);
    assert.ok(cleaned.reason.length <= MAX_HELPER_TEXT);
    assert.doesNotMatch(cleaned.reason, /[\u0000-\u001f]/);
    assert.match(cleaned.reason, /^KILL_RUN_CMD failed: x+/);
    assert.equal(store.unreadableRows, 2);
    // What the control socket sends: the page passes the protocol's own result schema.
    assert.equal(eventsListResultSchema.safeParse(page).success, true);

    // Paging over the bad rows: the cursor moves past them instead of stopping.
    const first = store.events({ limit: 2 });
    assert.deepEqual(
      first.events.map((e) => e.at),
      [5],
    );
    assert.notEqual(first.nextCursor, null);
    const second = store.events({ limit: 2, before: first.nextCursor! });
    assert.deepEqual(
      second.events.map((e) => e.at),
      [2],
    );
    const third = store.events({ limit: 2, before: second.nextCursor! });
    assert.deepEqual(
      third.events.map((e) => e.at),
      [1],
    );
    assert.equal(third.nextCursor, null);

    // The reader thread (what events.list uses) gives the same pages and counts the same skips.
    assert.deepEqual(await store.eventsInBackground({ limit: 100 }), page);
    assert.equal(store.unreadableRows, 2 + 2 + 2);
    assert.deepEqual(await store.eventsInBackground({ limit: 2, before: first.nextCursor! }), second);
    store.close();
  });
});
