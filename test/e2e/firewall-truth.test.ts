// What the helper says is what the kernel does, through what other programs do to the
// firewall: `nft flush ruleset` (what `systemctl restart nftables` does), a deleted table or
// element, an unblock while the scanner's connection is still open, a report-only host. A real
// helper in a namespace, the kernel read back after each step; every wait is for a line or a
// packet (a safety net of 60 s, never the verdict).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { until } from '../support/wait.js';
import type { BlockEntry, StatusResult } from '../../shared/protocol/schemas.js';

const CTL = fileURLToPath(new URL('../../privileged-helper/bin/portsentryctl.js', import.meta.url));
const TABLE = 'pstruth';

describe('the firewall holds what the helper says', { timeout: 600_000 }, () => {
  let lab: Lab<'target' | 's1' | 's2' | 's3' | 's4'>;
  let target: LabHost;
  let dir: string;
  let daemon: DaemonProcess;

  const ctl = async (args: string[]) => (await lab.exec(target, [process.execPath, CTL, '--socket', join(dir, 'run', 'admin', 'helper.sock'), ...args], { allowFailure: true })).stdout;
  const status = async () => JSON.parse(await ctl(['--json', 'status'])) as StatusResult;
  const listed = async () => (JSON.parse(await ctl(['--json', 'blocks'])) as BlockEntry[]).map((b) => b.address).sort();
  const inKernel = async (address: string) => (await blockedSetsText(lab, target, TABLE)).includes(address);
  const udpProbe = (from: LabHost, port = 31337) => lab.exec(from, ['python3', '-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('${target.v4}', ${port}))`]);

  before(async () => {
    lab = await createLab(['target', 's1', 's2', 's3', 's4']);
    target = lab.hosts.target;
    dir = await mkdtemp(join(tmpdir(), 'portsentry-truth-'));
    await writeFile(join(dir, 'ignore'), '');
    await writeFile(join(dir, 'portsentry.conf'), helperConfigText(dir, { NFT_TABLE: TABLE, TCP_PORTS: '1,31337', UDP_PORTS: '1,31337', MODES: 'tcp udp', BLOCK_TIMEOUT: '3600' }));
    daemon = startDaemon(lab, target, ['-c', join(dir, 'portsentry.conf')]);
    await daemon.waitFor('PortSentry is now active and listening');
  });

  after(async () => {
    await daemon?.stop();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('restores the table, every block with its time left and the kernel trap after `nft flush ruleset`', async () => {
    const { s1 } = lab.hosts;
    await udpProbe(s1);
    await daemon.waitFor(`Host ${s1.v4} has been blocked`);
    await lab.exec(target, ['nft', 'flush', 'ruleset']);
    await daemon.waitFor(/restored it with 1 block/);
    assert.ok(await inKernel(s1.v4), 'the block is back in the kernel');
    const set = (await lab.exec(target, ['nft', 'list', 'set', 'inet', TABLE, 'blocked4'])).stdout;
    assert.match(set, /timeout (59m|1h)/, 'with the time it had left, not without a timeout');
    const trap = (await lab.exec(target, ['nft', 'list', 'chain', 'inet', TABLE, 'trap'])).stdout;
    assert.match(trap, /portsentry tripwire/, 'the kernel trap is armed again');
    const now = await status();
    assert.deepEqual(now.firewall, { inSync: true, problem: null, repairs: 1 });
    assert.deepEqual(await listed(), [s1.v4]);
    assert.equal(now.blockedCount, 1);
  });

  it('puts back a block another program deleted from the set', async () => {
    const { s1 } = lab.hosts;
    await lab.exec(target, ['nft', 'delete', 'element', 'inet', TABLE, 'blocked4', `{ ${s1.v4} }`]);
    await daemon.waitFor(new RegExp(`removed 1 block the helper holds \\(${s1.v4.replaceAll('.', '\\.')}\\); put back`));
    assert.ok(await inKernel(s1.v4));
  });

  it('puts back a drop rule another program deleted', async () => {
    const listing = (await lab.exec(target, ['nft', '-a', 'list', 'chain', 'inet', TABLE, 'prerouting'])).stdout;
    const handle = /blackhole" # handle (\d+)/.exec(listing)?.[1];
    assert.ok(handle !== undefined, listing);
    await lab.exec(target, ['nft', 'delete', 'rule', 'inet', TABLE, 'prerouting', 'handle', handle]);
    await daemon.waitFor(/restored the drop rules and the kernel trap/);
    const after = (await lab.exec(target, ['nft', 'list', 'chain', 'inet', TABLE, 'prerouting'])).stdout;
    assert.equal(after.match(/portsentry blackhole/g)?.length, 5, after);
    assert.ok(await inKernel(lab.hosts.s1.v4), 'the blocks stayed where they were');
  });

  it('calls a new scanner blocked only once the kernel holds it, even while the table is gone', async () => {
    const { s2 } = lab.hosts;
    await lab.exec(target, ['nft', 'delete', 'table', 'inet', TABLE]);
    await lab.exec(s2, ['socat', '-u', 'OPEN:/dev/null', `TCP4:${target.v4}:31337,connect-timeout=5`], { allowFailure: true });
    await daemon.waitFor(`Host ${s2.v4} has been blocked`);
    assert.ok(await inKernel(s2.v4), 'logged as blocked, so in the kernel');
    assert.deepEqual(await listed(), [lab.hosts.s1.v4, s2.v4].sort());
    assert.equal((await status()).firewall?.inSync, true);
  });

  it("keeps an unblock while the scanner's connection is still open (its retransmissions do not put it back)", async () => {
    const { s3 } = lab.hosts;
    // Counted before anything of ours (raw is -300): shows when a packet of s3's arrived.
    await writeFile(
      join(dir, 'counter.nft'),
      [
        'table inet pstruth_probe {',
        '  chain early { type filter hook prerouting priority -400; policy accept; }',
        '}',
        `add rule inet pstruth_probe early ip saddr ${s3.v4} tcp dport 31337 counter`,
        '',
      ].join('\n'),
    );
    await lab.exec(target, ['nft', '-f', join(dir, 'counter.nft')]);
    const counted = async () => Number(/packets (\d+)/.exec((await lab.exec(target, ['nft', 'list', 'chain', 'inet', 'pstruth_probe', 'early'])).stdout)?.[1] ?? 0);
    // socat sends its FIN once /dev/null ends; blocked, the FIN is dropped and retransmitted.
    // -t keeps socat's socket open meanwhile: an orphaned one (socat's default, gone after
    // 0.5 s) retransmits only tcp_orphan_retries times, so on a slow machine the unblock could
    // come after its last packet. Open, it retransmits for tcp_retries2 (about 15 minutes).
    const client = lab.spawn(s3, ['socat', '-t', '3600', '-u', 'OPEN:/dev/null', `TCP4:${target.v4}:31337`], { stdio: 'ignore' });
    try {
      await daemon.waitFor(`Host ${s3.v4} has been blocked`);
      await until('the client retransmits into the block', async () => (await counted()) >= 4);
      await ctl(['unblock', s3.v4]);
      await daemon.waitFor(`Host ${s3.v4} has been unblocked`);
      const atUnblock = await counted();
      // Retransmissions back off, doubling up to TCP_RTO_MAX (120 s): the net covers the longest gap.
      await until('a packet of the open connection arrives after the unblock', async () => (await counted()) > atUnblock, 180_000);
      assert.equal(await inKernel(s3.v4), false, 'the unblocked host was put back by its own open connection');
      assert.equal((await listed()).includes(s3.v4), false);
    } finally {
      client.kill('SIGKILL');
      await lab.exec(target, ['nft', 'delete', 'table', 'inet', 'pstruth_probe'], { allowFailure: true });
    }
  });

  it('never calls a report-only host blocked, and says the helper is not protecting', async () => {
    const { s4 } = lab.hosts;
    await ctl(['config', 'set', 'BLOCK_TCP=0', 'BLOCK_UDP=0']);
    await daemon.waitFor('Configuration reloaded');
    await udpProbe(s4);
    await daemon.waitFor(`${s4.v4} to UDP port: 31337`);
    await udpProbe(s4);
    await daemon.waitFor(`Host: ${s4.v4} was reported already and is not blocked (report only (BLOCK_UDP=0))`);
    assert.equal(await inKernel(s4.v4), false);
    assert.equal((await listed()).includes(s4.v4), false);
    assert.ok(!daemon.lines.some((line) => line.includes(s4.v4) && /already blocked|has been blocked/.test(line)), daemon.lines.join('\n'));
    const now = await status();
    assert.equal(now.protecting, false);
    assert.match(now.notProtectingReason ?? '', /blocking is off/);
    assert.match(await ctl(['status']), /NOT PROTECTING: blocking is off/);
  });
});
