// A broken event store never stops detection. Damaged before start (garbage in the file, or a
// real store cut short), the helper moves it aside with one log line naming both files, starts
// a new store, and runs: a scan is detected, blocked in the kernel and listed, and a block the
// kernel held from before is still listed. Replaced under a running helper, or its disk full,
// detection and blocking go on and `status` says the store is degraded, naming the file.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventStore } from '../../privileged-helper/store/event-store.js';
import { HelperClient, HelperError } from '../../shared/rpc/helper-client.js';
import { ErrorCode } from '../../shared/protocol/json-rpc.js';
import { DAEMON_SCRIPT, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, tcpReachable, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { until } from '../support/wait.js';

const TABLE = 'psstore';
/** An address the kernel blocks before the damaged store is found (no lab host has it). */
const EARLIER_BLOCK = '198.18.200.7';

describe('a broken event store does not stop detection', { timeout: 300_000 }, () => {
  let lab: Lab<'target' | 'scanner' | 'second'>;
  let dir: string;
  let conf: string;
  const file = () => join(dir, 'events.db');

  before(async () => {
    lab = await createLab(['target', 'scanner', 'second']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-store-'));
    await writeFile(join(dir, 'ignore'), '');
    conf = join(dir, 'portsentry.conf');
    await writeFile(conf, helperConfigText(dir, { TCP_PORTS: '1,11,15,79,143', UDP_PORTS: '1,7,9', NFT_TABLE: TABLE }));
  });
  after(async () => {
    if (lab !== undefined) {
      await lab.exec(lab.hosts.target, [process.execPath, DAEMON_SCRIPT, '-c', conf, '--remove-firewall'], { allowFailure: true });
      await lab.destroy();
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<{ daemon: DaemonProcess; helper: HelperClient }> => {
    const daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, '-tcp']);
    await daemon.waitFor('Control socket listening on');
    return { daemon, helper: await HelperClient.connect(join(dir, 'run', 'helper.sock')) };
  };
  const stop = async (run: { daemon: DaemonProcess; helper: HelperClient }) => {
    run.helper.close();
    assert.equal((await run.daemon.stop()).code, 0, run.daemon.lines.join('\n'));
  };
  const kernelBlocks = () => blockedSetsText(lab, lab.hosts.target, TABLE);

  /**
   * Connects from `from` to a tripwire, then waits for the helper's line. One connect with a
   * 1 s timeout could time out on a starved machine (the lab's packets wait for ksoftirqd like
   * any thread) and leave nothing to judge: a connect that did not complete is tried again, one
   * that did is not (a second probe would be a second store write).
   */
  const connectLogged = async (daemon: DaemonProcess, from: LabHost, port: number): Promise<void> => {
    const line = `attackalert: Connect from host: ${from.v4}/${from.v4} to TCP port: ${port}`;
    await until(`${from.name} completes a connect to port ${port}`, async () => daemon.lines.some((l) => l.includes(line)) || (await tcpReachable(lab, from, lab.hosts.target.v4, port, 5)));
    await daemon.waitFor(line);
  };

  /** A clean slate: no table, no store, no moved-aside stores, the scanner unblocked. */
  const reset = async () => {
    for (const name of await readdir(dir)) if (name.startsWith('events.db')) await rm(join(dir, name));
    await lab.exec(lab.hosts.target, [process.execPath, DAEMON_SCRIPT, '-c', conf, '--remove-firewall']);
  };

  /** Runs a helper on a good store and leaves EARLIER_BLOCK in the kernel (and in that store). */
  const blockEarlierAndStop = async () => {
    const first = await start();
    try {
      await first.helper.call('block', { address: EARLIER_BLOCK, reason: 'blocked before the store broke' });
      await until('the earlier block is in the kernel', async () => (await kernelBlocks()).includes(EARLIER_BLOCK));
    } finally {
      await stop(first);
    }
  };

  /** After a damaged store was replaced at start: the log line, the moved-aside file, and a new store that works. */
  const assertRecovered = async (expectedError: RegExp) => {
    const { scanner } = lab.hosts;
    const run = await start();
    try {
      const line = await run.daemon.waitFor('could not be opened');
      const escaped = file().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const match = new RegExp(
        `adminalert: ERROR: the event store ${escaped} could not be opened \\((${expectedError.source})\\); moved it to (${escaped}\\.corrupt-\\d{8}T\\d{6}Z); started a new, empty store: earlier events and stored blocks are not in it$`,
      ).exec(line);
      assert.ok(match !== null, line);
      const moved = match[match.length - 1]!;
      assert.ok((await stat(moved)).isFile(), 'the damaged store is kept for inspection');
      // The block the kernel held is adopted into the new store by the start-up reconciliation.
      const listed = async () => (await run.helper.call('blocks.list', {})).blocks.map((b) => b.address);
      assert.ok((await listed()).includes(EARLIER_BLOCK), `listed: ${(await listed()).join(', ')}`);
      assert.ok((await kernelBlocks()).includes(EARLIER_BLOCK));
      // The new store records a scan, blocked in the kernel.
      await connectLogged(run.daemon, scanner, 11);
      await until('the scanner is blocked in the kernel', async () => (await kernelBlocks()).includes(scanner.v4));
      await until('the scan is listed by events.list', async () => (await run.helper.call('events.list', { host: scanner.v4, limit: 10 })).events.some((e) => e.type === 'scan' && e.port === 11));
      assert.ok((await listed()).includes(scanner.v4));
      assert.deepEqual((await run.helper.call('status', {})).store, { ok: true, problem: null });
    } finally {
      await stop(run);
    }
  };

  it('garbage in the store file before start: moved aside, a new store, the scanner blocked and listed, the earlier block kept', async () => {
    await reset();
    await blockEarlierAndStop();
    await writeFile(file(), Buffer.alloc(64 * 1024, 'this is not an SQLite database '));
    await assertRecovered(/file is not a database/);
  });

  it('a real store cut short before start: moved aside, a new store, the scanner blocked and listed, the earlier block kept', async () => {
    await reset();
    await blockEarlierAndStop();
    // A real store with history, as a disk or a copy that lost its end leaves it.
    const store = new EventStore(file());
    store.recordBatch(
      Array.from({ length: 5000 }, (_, i) => ({
        type: 'scan' as const,
        at: 1_000 + i,
        source: `198.18.${100 + ((i >> 8) & 15)}.${i & 255}`,
        family: 4 as const,
        port: 1 + (i % 1000),
        protocol: 'tcp' as const,
        kind: 'connect' as const,
        mode: 'tcp' as const,
        action: 'blocked' as const,
      })),
    );
    store.close();
    const { size } = await stat(file());
    await truncate(file(), Math.floor(size / 3));
    await assertRecovered(/database disk image is malformed[^;]*/);
  });

  it('a store replaced by garbage while the helper runs: a probe is still logged and blocked, status says degraded naming the file', async () => {
    await reset();
    const { target, scanner } = lab.hosts;
    const run = await start();
    try {
      assert.deepEqual((await run.helper.call('status', {})).store, { ok: true, problem: null });
      await writeFile(join(dir, 'garbage'), Buffer.alloc(64 * 1024, 'garbage '));
      await rename(join(dir, 'garbage'), file());
      await connectLogged(run.daemon, scanner, 143);
      await until('the scanner is blocked in the kernel', async () => (await kernelBlocks()).includes(scanner.v4));
      const status = await run.helper.call('status', {});
      assert.equal(status.store?.ok, false, JSON.stringify(status));
      assert.ok(status.store?.problem?.includes(`the event store ${file()} was replaced by another file while the helper ran`), status.store?.problem ?? '');
      await run.daemon.waitFor(`adminalert: ERROR: the event store ${file()} was replaced by another file`);
      await assert.rejects(run.helper.call('events.list', { limit: 5 }), (error: unknown) => error instanceof HelperError && error.code === ErrorCode.STORE_FAILED && error.message.includes(file()));
      const ctl = await lab.exec(target, [process.execPath, join(DAEMON_SCRIPT, '..', 'portsentryctl.js'), '--socket', join(dir, 'run', 'helper.sock'), 'status']);
      assert.match(ctl.stdout, new RegExp(`^store: DEGRADED: the event store ${file().replace(/[.]/g, '\\.')} was replaced`, 'm'));
    } finally {
      await stop(run);
    }
  });

  it('the disk under the store fills up while the helper runs: probes are still logged and blocked, status says degraded; with room again the store works again', async () => {
    await reset();
    const { target, scanner, second } = lab.hosts;
    // The store on a 1 MiB file system of the helper's own (a private mount), filled up below.
    const small = join(dir, 'small');
    await mkdir(small, { recursive: true, mode: 0o700 });
    const store = join(small, 'events.db');
    const smallConf = join(dir, 'small.conf');
    await writeFile(smallConf, helperConfigText(dir, { TCP_PORTS: '1,11,15,79,143', UDP_PORTS: '1,7,9', NFT_TABLE: TABLE, STORE_FILE: store }));
    const daemon = startDaemon(lab, target, ['-c', smallConf, '-tcp'], { privateMounts: ['--small-tmpfs', String(1024 * 1024), small] });
    let helper: HelperClient | undefined;
    try {
      await daemon.waitFor('Control socket listening on');
      helper = await HelperClient.connect(join(dir, 'run', 'helper.sock'));
      assert.deepEqual((await helper.call('status', {})).store, { ok: true, problem: null });
      // The helper's own view of its file system: the private mount is only there.
      const filler = join(`/proc/${daemon.child.pid}/root`, small, 'filler');
      await writeFile(filler, Buffer.alloc(2 * 1024 * 1024)).then(
        () => assert.fail('the small file system took 2 MiB'),
        (error: NodeJS.ErrnoException) => assert.equal(error.code, 'ENOSPC'),
      );
      await connectLogged(daemon, scanner, 143);
      await until('the scanner is blocked in the kernel', async () => (await kernelBlocks()).includes(scanner.v4));
      await daemon.waitFor(`adminalert: ERROR: cannot write to the event store ${store}: database or disk is full`);
      const status = await helper.call('status', {});
      assert.equal(status.store?.ok, false, JSON.stringify(status));
      assert.match(status.store?.problem ?? '', new RegExp(`^cannot write to the event store ${store.replace(/[.]/g, '\\.')}: database or disk is full; the disk is full`));
      // Room again: the next event is stored and the store says it works again.
      await rm(filler);
      await connectLogged(daemon, second, 79);
      await daemon.waitFor(`adminalert: WARNING: the event store ${store} works again`);
      assert.deepEqual((await helper.call('status', {})).store, { ok: true, problem: null });
      assert.ok((await helper.call('events.list', { host: second.v4, limit: 5 })).events.some((e) => e.type === 'scan' && e.port === 79));
    } finally {
      helper?.close();
      assert.equal((await daemon.stop()).code, 0, daemon.lines.join('\n'));
    }
  });
});
