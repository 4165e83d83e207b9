// Ignore = trust this host, end to end against a real helper with nftables in a lab: adding a
// blocked host to the ignore list lifts its block (read back from the kernel) and says so;
// ignore.undo removes the entry and puts the block back; "allow for a while" is an ignore
// entry the helper removes itself when its time is up (after which the host can be blocked
// again), and it survives a restart of the helper.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HelperClient, HelperError } from '../../shared/rpc/helper-client.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { until } from '../support/wait.js';

const TABLE = `psit${process.pid}`.slice(0, 30);

describe('ignore trusts a host', { timeout: 240_000 }, () => {
  let lab: Lab<'target' | 'scanner' | 'friend'>;
  let dir: string;
  let daemon: DaemonProcess;
  let helper: HelperClient;

  const kernel = () => blockedSetsText(lab, lab.hosts.target, TABLE);
  const start = async () => {
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-tcp']);
    await daemon.waitFor('Control socket listening on');
    helper = await HelperClient.connect(join(dir, 'run', 'helper.sock'));
  };

  before(async () => {
    lab = await createLab(['target', 'scanner', 'friend']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-trust-'));
    await writeFile(join(dir, 'ignore'), '# trust test ignore list\n');
    await writeFile(join(dir, 'portsentry.conf'), helperConfigText(dir, { NFT_TABLE: TABLE, TCP_PORTS: '31337', BLOCK_TIMEOUT: '3600' }, '# ignore trusts test'));
    await start();
  });

  after(async () => {
    helper?.close();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('Ignore lifts a real block and says so; Undo puts it back and removes the entry', async () => {
    const { scanner } = lab.hosts;
    await helper.call('block', { address: scanner.v4, reason: 'scan of TCP port 31337' });
    assert.ok((await kernel()).includes(scanner.v4), 'the block is in nftables');
    const added = await helper.call('ignore.add', { entry: scanner.v4, comment: 'trusted in the test' });
    assert.equal(added.added, true);
    assert.equal(added.until, null, 'an entry for good');
    assert.deepEqual(
      added.lifted?.map((b) => [b.address, b.reason]),
      [[scanner.v4, 'scan of TCP port 31337']],
    );
    assert.equal((await kernel()).includes(scanner.v4), false, 'the kernel no longer holds the block');
    assert.equal((await helper.call('blocks.list', {})).blocks.length, 0);

    const undone = await helper.call('ignore.undo', { entry: scanner.v4, reblock: added.lifted ?? [] });
    assert.deepEqual(undone, { entry: scanner.v4, removed: true, reblocked: [scanner.v4] });
    assert.ok((await kernel()).includes(scanner.v4), 'the block is back in nftables');
    const back = (await helper.call('blocks.list', {})).blocks.find((b) => b.address === scanner.v4);
    assert.ok(back !== undefined && back.until !== null && back.until <= (added.lifted?.[0]?.until ?? 0) + 1000, 'with the time it had left');
    assert.deepEqual((await helper.call('ignore.list', {})).entries, []);
  });

  it('Allow for a while lifts the block, and the helper ends it by itself; the host can then be blocked again', async () => {
    const { scanner } = lab.hosts;
    const added = await helper.call('ignore.add', { entry: scanner.v4, durationSeconds: 3 });
    assert.deepEqual(
      added.lifted?.map((b) => b.address),
      [scanner.v4],
    );
    assert.ok(added.until !== null && added.until !== undefined, 'a timed entry says when it ends');
    assert.deepEqual((await helper.call('ignore.list', {})).entries, [{ entry: scanner.v4, until: added.until }]);
    assert.equal((await kernel()).includes(scanner.v4), false);
    await assert.rejects(helper.call('block', { address: scanner.v4 }), (error: unknown) => error instanceof HelperError && /ignore list/.test(error.message), 'trusted while allowed');
    await until('the helper removed the timed entry', async () => (await helper.call('ignore.list', {})).entries.length === 0);
    await daemon.waitFor(`${scanner.v4} is no longer ignored`);
    await helper.call('block', { address: scanner.v4, reason: 'after the allowance' });
    assert.ok((await kernel()).includes(scanner.v4), 'blocked again once the allowance ended');
  });

  it('an allowance survives a restart of the helper', async () => {
    const { friend } = lab.hosts;
    const added = await helper.call('ignore.add', { entry: friend.v4, durationSeconds: 3600 });
    assert.match(await readFile(join(dir, 'ignore'), 'utf8'), new RegExp(`^${friend.v4.replace(/\./g, '\\.')}  # allowed until \\d{4}-\\d\\d-\\d\\dT`, 'm'));
    helper.close();
    await daemon.stop();
    await start();
    assert.deepEqual((await helper.call('ignore.list', {})).entries, [{ entry: friend.v4, until: added.until }]);
    await assert.rejects(helper.call('block', { address: friend.v4 }), (error: unknown) => error instanceof HelperError && /ignore list/.test(error.message));
  });
});
