// Extending a block (the dashboard's Extend: `block` again with a longer timeout) never lets
// the blocked host through: the new timeout replaces the old one in one nftables transaction.
// End to end: the daemon in a namespace, portsentryctl as the dashboard, and the blocked host
// sending UDP without pause the whole time; counters in a table of the test's own tell what
// arrived before our drop rule (raw priority) and what got past it.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { helperConfigText } from '../support/helper-config.js';

const CTL = fileURLToPath(new URL('../../privileged-helper/bin/portsentryctl.js', import.meta.url));
const PROBE_PORT = 9;
const EXTENDS = 40;

describe('extending a block', { timeout: 600_000 }, () => {
  let lab: Lab<'target' | 'blocked'>;
  let target: LabHost, blocked: LabHost;
  let dir: string;

  before(async () => {
    lab = await createLab(['target', 'blocked']);
    ({ target, blocked } = lab.hosts);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-extend-'));
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it(`lets nothing through from the blocked host during ${EXTENDS} extends`, async () => {
    const table = 'psextend';
    const conf = join(dir, 'portsentry.conf');
    await writeFile(join(dir, 'ignore'), '');
    await writeFile(conf, helperConfigText(dir, { NFT_TABLE: table, TCP_PORTS: '31337', UDP_PORTS: '31337' }));
    const daemon = startDaemon(lab, target, ['-c', conf, '-tcp']);
    const ctl = (args: string[]) => lab.exec(target, [process.execPath, CTL, '--socket', join(dir, 'run', 'helper.sock'), ...args]);
    // Counted before our drop rule (raw, -300) and after it (filter, 0).
    const counters = [
      'table inet psextend_probe {',
      '  chain early { type filter hook prerouting priority -400; policy accept; }',
      '  chain late { type filter hook prerouting priority 0; policy accept; }',
      '}',
      `add rule inet psextend_probe early ip saddr ${blocked.v4} udp dport ${PROBE_PORT} counter`,
      `add rule inet psextend_probe late ip saddr ${blocked.v4} udp dport ${PROBE_PORT} counter`,
    ].join('\n');
    await writeFile(join(dir, 'counters.nft'), `${counters}\n`);
    await lab.exec(target, ['nft', '-f', join(dir, 'counters.nft')]);
    const sender = lab.spawn(
      blocked,
      ['python3', '-c', ['import socket, sys', 's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)', 'while True:', `    s.sendto(b"x", ("${target.v4}", ${PROBE_PORT}))`].join('\n')],
      { stdio: 'ignore' },
    );
    try {
      await daemon.waitFor('PortSentry is now active and listening', 60_000);
      await ctl(['block', blocked.v4, '--timeout', '600']);
      const counted = async () => {
        const text = (await lab.exec(target, ['nft', 'list', 'table', 'inet', 'psextend_probe'])).stdout;
        const [early = 0, late = 0] = [...text.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
        return { early, late };
      };
      // The block is in: what got past it so far (before the block) is the baseline.
      const baseline = await counted();
      for (let i = 1; i <= EXTENDS; i += 1) await ctl(['block', blocked.v4, '--timeout', String(600 + i * 60)]);
      const end = await counted();
      assert.ok(end.early - baseline.early > 1000, `the blocked host kept sending (${end.early - baseline.early} datagrams seen before the drop)`);
      assert.equal(end.late - baseline.late, 0, 'datagrams got past the block while it was extended');
      // The last extension is what the kernel holds.
      const set = (await lab.exec(target, ['nft', 'list', 'set', 'inet', table, 'blocked4'])).stdout;
      const timeout = /timeout (\d+)m/.exec(set)?.[1];
      assert.equal(Number(timeout), (600 + EXTENDS * 60) / 60, set);
    } finally {
      sender.kill('SIGKILL');
      await daemon.stop();
      await lab.exec(target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
      await lab.exec(target, ['nft', 'delete', 'table', 'inet', 'psextend_probe'], { allowFailure: true });
    }
  });
});
