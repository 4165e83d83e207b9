import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventStore, forgetStoredBlocks } from '../../../privileged-helper/store/event-store.js';
import { reconcileBlocks } from '../../../privileged-helper/daemon/reconcile-blocks.js';
import type { BlockBackend } from '../../../privileged-helper/responders/block-backend.js';
import type { DetectionEvent } from '../../../shared/domain/detection-event.js';

const scan = (at: number, source: string, port: number, extra: Partial<DetectionEvent> = {}): DetectionEvent => ({
  type: 'scan', at, source, family: source.includes(':') ? 6 : 4, port, protocol: 'tcp', kind: 'syn', mode: 'stcp', action: 'blocked', ...extra,
});

/** An in-memory firewall with the BlockBackend contract, to observe reconciliation. */
class MemoryFirewall implements BlockBackend {
  readonly name = 'memory';
  readonly blocked = new Map<string, number | undefined>();
  async start() {}
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
    assert.deepEqual(store.events({ limit: 10 }).events.map((e) => e.id), [4, 3, 2, 1]);
    assert.deepEqual(store.events({ limit: 10, host: '198.18.0.1' }).events.map((e) => e.id), [4, 3, 1]);
    assert.deepEqual(store.events({ limit: 10, since: 2000, until: 3000 }).events.map((e) => e.id), [3, 2]);
    assert.deepEqual(store.events({ limit: 10, kind: 'fin' }).events.map((e) => e.id), [2]);
    assert.deepEqual(store.events({ limit: 10, protocol: 'udp', action: 'ignored' }).events.map((e) => e.id), [3]);
    assert.deepEqual(store.events({ limit: 10, port: 79 }).events.map((e) => e.id), [2]);
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
    assert.deepEqual([...firewall.blocked.entries()].sort(), [['198.18.0.1', undefined], ['198.18.0.2', 91], ['198.18.0.4', undefined]]);
    assert.deepEqual(restored.sort(), [['198.18.0.1', null], ['198.18.0.2', now + 90_500], ['198.18.0.4', null]]);
    assert.deepEqual(store.blocks().map((b) => b.address).sort(), ['198.18.0.1', '198.18.0.2', '198.18.0.4']);
    assert.ok(store.events({ limit: 10, host: '198.18.0.3' }).events.some((e) => e.type === 'block' && e.change === 'removed' && /expired/.test(e.reason)));
    const again = await reconcileBlocks({ store, firewall, clock: () => now, log: () => undefined, restore: () => undefined });
    assert.deepEqual(again, { reapplied: 3, expired: 0, adopted: 0, failed: 0 }, 'idempotent');
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
    assert.deepEqual(page.events.map((e) => e.at), [5, 2, 1]);
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
    assert.deepEqual(first.events.map((e) => e.at), [5]);
    assert.notEqual(first.nextCursor, null);
    const second = store.events({ limit: 2, before: first.nextCursor! });
    assert.deepEqual(second.events.map((e) => e.at), [2]);
    const third = store.events({ limit: 2, before: second.nextCursor! });
    assert.deepEqual(third.events.map((e) => e.at), [1]);
    assert.equal(third.nextCursor, null);
    store.close();
  });
});
