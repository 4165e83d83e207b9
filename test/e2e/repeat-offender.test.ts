// A host blocked again after its block lapsed gets a longer block (fail2ban's
// bantime.increment): BLOCK_TIMEOUT 5 s, doubled for each earlier block, read back from the
// timeout nftables holds for the element. The count comes from the store, so a restart of the
// helper in between keeps it. Each step waits for a line or a kernel state, never a clock.
// The scanner's scan records are in the store too.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { until } from '../support/wait.js';
import { EventStore } from '../../privileged-helper/store/event-store.js';

const TABLE = 'psrepeat';

describe('a repeat offender gets a longer block, also after a restart', { timeout: 600_000 }, () => {
  let lab: Lab<'target' | 'scanner'>;
  let dir: string;
  let conf: string;

  before(async () => {
    lab = await createLab(['target', 'scanner']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-repeat-'));
    await writeFile(join(dir, 'ignore'), '');
    conf = join(dir, 'portsentry.conf');
    await writeFile(conf, helperConfigText(dir, { NFT_TABLE: TABLE, MODES: 'stcp sudp', TCP_PORTS: '1,31337', UDP_PORTS: '700', BLOCK_TIMEOUT: '5', RPC_SOCKET: '', RPC_ADMIN_SOCKET: '' }));
  });

  after(async () => {
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('5 s, then 10 s, then (after a restart) 20 s, each with the reason', async () => {
    const { target, scanner } = lab.hosts;
    const ip = scanner.v4;
    const probe = () => lab.exec(scanner, ['python3', '-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('${target.v4}', 700))`]);
    /** The element's timeout as nftables holds it ("4s"), once the block is there. */
    const heldTimeout = async (seconds: number) => {
      await until(`${ip} is held with timeout ${seconds}s`, async () => new RegExp(`${ip.replaceAll('.', '\\.')} timeout ${seconds}s`).test(await blockedSetsText(lab, target, TABLE)));
    };
    /** The block lapsed: logged, and gone from the kernel. */
    const lapsed = async (daemon: DaemonProcess, count: number) => {
      await until(`block ${count} of ${ip} has lapsed`, () => daemon.lines.filter((l) => l.includes(`Host ${ip} block has expired`)).length >= count);
      await until(`${ip} is out of the kernel`, async () => !(await blockedSetsText(lab, target, TABLE)).includes(ip));
    };

    let daemon = startDaemon(lab, target, ['-c', conf]);
    try {
      await daemon.waitFor('PortSentry is now active and listening');
      await probe();
      await daemon.waitFor(`Host ${ip} has been blocked`);
      await heldTimeout(5);
      await lapsed(daemon, 1);
      await probe();
      const line = await daemon.waitFor(`Host ${ip} is a repeat offender`);
      assert.match(line, /blocked 1 time before, this block lasts 10 s/);
      await heldTimeout(10);
      await lapsed(daemon, 2);
    } finally {
      await daemon.stop();
    }
    daemon = startDaemon(lab, target, ['-c', conf]);
    try {
      await daemon.waitFor('PortSentry is now active and listening');
      await probe();
      const line = await daemon.waitFor(`Host ${ip} is a repeat offender`);
      assert.match(line, /blocked 2 times before, this block lasts 20 s/);
      await heldTimeout(20);
    } finally {
      await daemon.stop();
    }
    // One record per scan in the store beside the per-probe events (written at the latest when
    // the helper stops): this scanner's three probes, the first two in one run before the restart.
    const store = new EventStore(join(dir, 'events.db'));
    try {
      const records = store.scans(10).filter((record) => record.scanner === ip);
      assert.deepEqual(
        records.map((record) => [record.probes, record.outcome, record.ports.udp, record.kinds]),
        [
          [1, 'blocked', [700], ['udp']],
          [2, 'blocked', [700], ['udp']],
        ],
      );
    } finally {
      store.close();
    }
  });
});
