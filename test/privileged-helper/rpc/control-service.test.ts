// What the control methods do for each caller, against a real store: here, that operators who
// keep the statistics worker busy cannot keep root's own request out (before, all callers
// shared one line of four and root's request was refused as rate-limited).

import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Daemon } from '../../../privileged-helper/daemon/daemon.js';
import { controlHandlers, MAX_WAITING_OPERATOR_LISTS, MAX_WAITING_OPERATOR_STATS } from '../../../privileged-helper/rpc/control-service.js';
import type { ConnectionContext } from '../../../privileged-helper/rpc/control-socket.js';
import { EventStore } from '../../../privileged-helper/store/event-store.js';
import { ErrorCode, ProtocolError } from '../../../shared/protocol/json-rpc.js';

const as = (role: ConnectionContext['role']): ConnectionContext => ({ connectionId: 1, role, subscribe: () => undefined });

/**
 * Sends `waiting` operators' requests, then root's, all at once, and checks the order of
 * answers: root right after the one already running, operators beyond `waiting` refused as
 * rate-limited (not queued), root never refused.
 */
async function assertRootGoesFirst(request: (context: ConnectionContext) => unknown, waiting: number): Promise<void> {
  const finished: string[] = [];
  const ask = (who: ConnectionContext['role'], name: string) =>
    Promise.resolve(request(as(who))).then(
      () => void finished.push(name),
      (error: unknown) => {
        finished.push(`${name} refused`);
        if (!(error instanceof ProtocolError && error.code === ErrorCode.RATE_LIMITED)) throw error;
      },
    );
  const operators = Array.from({ length: waiting + 4 }, (_, i) => ask('operator', `op${i}`));
  const root = ask('admin', 'root');
  await Promise.all([...operators, root]);
  assert.ok(!finished.includes('root refused'), `root was refused: ${finished.join(', ')}`);
  const answered = finished.filter((name) => !name.endsWith('refused'));
  assert.deepEqual(answered.slice(0, 2), ['op0', 'root'], 'root runs right after the one running');
  assert.equal(answered.length, 1 + waiting + 1, 'operators beyond the cap are refused, not queued');
}

describe('control service', () => {
  let dir: string;
  let store: EventStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portsentry-service-'));
    store = new EventStore(join(dir, 'events.db'));
    for (let i = 0; i < 200; i++) {
      store.record({ type: 'scan', at: 1_000 + i, source: `198.18.0.${i}`, family: 4, port: 1 + i, protocol: 'tcp', kind: 'syn', mode: 'stcp', action: 'blocked' });
    }
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("root's stats request is answered, ahead of the operators' waiting ones, however many operators asked", async () => {
    const handlers = controlHandlers({
      daemon: {} as Daemon,
      store,
      configPath: null,
      embeddedConfigText: '',
      version: 't',
      startedAt: 0,
      clock: () => 10_000,
      reload: async () => true,
    });
    await assertRootGoesFirst((context) => handlers.stats({ buckets: 10 }, context), MAX_WAITING_OPERATOR_STATS);
  });

  it('config.get shows each value as written in the file it came from, not a line the loader skipped', async () => {
    const { parseLayeredConfig } = await import('../../../privileged-helper/config/config.js');
    const mainFile = join(dir, 'portsentry.conf');
    const operatorFile = join(dir, 'operator-settings.conf');
    const mainText = `BLOCK_RATE_PER_PREFIX="8"\nOPERATOR_SETTINGS_FILE="${operatorFile}"\n`;
    const operatorText = 'BLOCK_RATE_PER_PREFIX="0"\nSCAN_TRIGGER="2"\n';
    await writeFile(mainFile, mainText);
    await writeFile(operatorFile, operatorText);
    const config = parseLayeredConfig({ text: mainText, file: mainFile }, { text: operatorText, file: operatorFile });
    const daemon = { config, modesFrom: 'config', modes: ['tcp'] } as unknown as Daemon;
    const handlers = controlHandlers({ daemon, store, configPath: mainFile, embeddedConfigText: '', version: 't', startedAt: 0, clock: () => 10_000, reload: async () => true });
    const got = await handlers['config.get']({}, as('operator'));
    assert.equal(got.values['BLOCK_RATE_PER_PREFIX'], '8', "the value in force, from root's file");
    assert.equal(got.sources['BLOCK_RATE_PER_PREFIX'], mainFile);
    assert.equal(got.values['SCAN_TRIGGER'], '2');
    assert.equal(got.sources['SCAN_TRIGGER'], operatorFile);
  });

  it('a store replaced under the helper: status says degraded naming the file, events.list and stats fail with STORE_FAILED naming it', async () => {
    const own = await mkdtemp(join(tmpdir(), 'portsentry-service-store-'));
    const file = join(own, 'events.db');
    const broken = new EventStore(file);
    try {
      const daemon = {
        isPaused: false,
        modes: ['tcp'],
        modesFrom: 'config',
        blockedAddresses: () => [],
        heldBlocks: () => [],
        protection: () => ({ protecting: true, reason: null }),
        portsInUseByOthers: () => ({ tcp: [], udp: [] }),
        captureActive: false,
        config: { blockBackend: 'nftables' },
        pausedUntil: null,
      } as unknown as Daemon;
      const handlers = controlHandlers({ daemon, store: broken, configPath: null, embeddedConfigText: '', version: 't', startedAt: 0, clock: () => 10_000, reload: async () => true });
      assert.deepEqual((await handlers.status({}, as('operator'))).store, { ok: true, problem: null });
      await writeFile(join(own, 'garbage'), 'garbage');
      await rename(join(own, 'garbage'), file);
      const status = await handlers.status({}, as('operator'));
      assert.equal(status.store?.ok, false);
      assert.match(status.store?.problem ?? '', new RegExp(`the event store ${file} was replaced by another file`));
      const storeFailed = (error: unknown) => error instanceof ProtocolError && error.code === ErrorCode.STORE_FAILED && error.message.includes(file);
      await assert.rejects(Promise.resolve(handlers['events.list']({ limit: 5 }, as('operator'))), storeFailed);
      await assert.rejects(Promise.resolve(handlers.stats({ buckets: 5 }, as('operator'))), storeFailed);
    } finally {
      broken.close();
      await rm(own, { recursive: true, force: true });
    }
  });

  it('events.list reads on the reader thread, root ahead of waiting operators, and operators beyond the cap are refused', async () => {
    const handlers = controlHandlers({ daemon: {} as Daemon, store, configPath: null, embeddedConfigText: '', version: 't', startedAt: 0, clock: () => 10_000, reload: async () => true });
    // The thread that detects never runs the query: its own reading method is out of bounds here.
    const onThisThread = store.events;
    store.events = () => {
      throw new Error('events.list read the store on the thread that detects');
    };
    try {
      const page = await handlers['events.list']({ limit: 5, port: 7 }, as('operator'));
      assert.deepEqual(
        page.events.map((e) => (e.type === 'scan' ? e.port : null)),
        [7],
      );
      await assertRootGoesFirst((context) => handlers['events.list']({ limit: 50, kind: 'syn' }, context), MAX_WAITING_OPERATOR_LISTS);
    } finally {
      store.events = onThisThread;
    }
  });
});
