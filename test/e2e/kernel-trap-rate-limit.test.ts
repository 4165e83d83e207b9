// The kernel trap keeps BLOCK_RATE_PER_PREFIX too: a spoofed flood from one /24 cannot make
// nftables add more than the limit's blocks a minute from it (user space never gets a say
// once the kernel has added them), while another /24 is still blocked and a real scanner
// after the flood still is. End to end: the daemon in a namespace, raw spoofed SYNs, nmap.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../support/daemon-process.js';
import { createLab, tcpReachable, type Lab, type LabHost } from '../support/netns-lab.js';
import { helperConfigText, startTcpService } from '../support/helper-config.js';

const SPOOF = fileURLToPath(new URL('../../../test/support/spoof-syn.py', import.meta.url));
const TRAP_PORT = 555;
const SERVICE_PORT = 8080;
const LIMIT = 4;

describe('the kernel trap under a spoofed flood from one /24', { timeout: 600_000 }, () => {
  let lab: Lab<'target' | 'flooder' | 'scanner' | 'client'>;
  let target: LabHost, flooder: LabHost, scanner: LabHost, client: LabHost;
  let dir: string;
  let service: ReturnType<Lab['spawn']>;

  before(async () => {
    lab = await createLab(['target', 'flooder', 'scanner', 'client']);
    ({ target, flooder, scanner, client } = lab.hosts);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-traprate-'));
    service = await startTcpService(lab, target, SERVICE_PORT);
  });

  after(async () => {
    service?.kill();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it(`adds at most BLOCK_RATE_PER_PREFIX (${LIMIT}) a minute from the flooded /24, still blocks another /24 and a real scanner`, async () => {
    const table = 'pstraprate';
    const conf = join(dir, 'portsentry.conf');
    await writeFile(join(dir, 'ignore'), '');
    await writeFile(conf, helperConfigText(dir, { NFT_TABLE: table, SCAN_TRIGGER: '0', ADVANCED_PORTS_TCP: '1024', KERNEL_TRAP: '1', BLOCK_RATE_PER_PREFIX: String(LIMIT) }));
    const daemon = startDaemon(lab, target, ['-c', conf, '-atcp']);
    try {
      await daemon.waitFor('PortSentry is now active and listening', 60_000);
      await daemon.waitFor(/Kernel trap armed/);
      const blocked4 = async () => (await lab.exec(target, ['nft', 'list', 'set', 'inet', table, 'blocked4'], { allowFailure: true })).stdout;
      const inPrefix = (text: string, prefix: string) => (text.match(new RegExp(`\\b${prefix.replace(/\./g, '\\.')}\\.\\d+\\b`, 'g')) ?? []).length;

      // 250 distinct spoofed sources in 198.18.70.0/24, as fast as the sender goes (well under a minute).
      await lab.exec(flooder, ['python3', SPOOF, target.v4, String(TRAP_PORT), '250', '198.18.70.1'], { timeoutMs: 120_000 });
      // Three from another /24: under its own limit, so each is blocked.
      await lab.exec(flooder, ['python3', SPOOF, target.v4, String(TRAP_PORT), '3', '198.18.71.1'], { timeoutMs: 60_000 });
      const deadline = Date.now() + 60_000;
      while (inPrefix(await blocked4(), '198.18.71') < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      await daemon.waitFor(/more than 4 new blocks a minute from 198\.18\.70\.0\/24/, 60_000);

      const text = await blocked4();
      const flooded = inPrefix(text, '198.18.70');
      // The kernel's bucket and user space's each allow LIMIT now (and LIMIT a minute after);
      // without the kernel's limit the trap adds every one of the 250.
      assert.ok(flooded >= 1 && flooded <= 3 * LIMIT, `${flooded} blocks from the flooded /24 (limit ${LIMIT} a minute)`);
      assert.equal(inPrefix(text, '198.18.71'), 3, 'the other /24 is blocked');

      // A real scanner after the flood is still blackholed.
      const scan = await lab.exec(scanner, ['nmap', '-n', '-Pn', '-sS', '-p', String(TRAP_PORT), '--max-retries', '0', target.v4], { timeoutMs: 120_000 });
      assert.match(scan.stdout, /filtered/);
      await daemon.waitFor(new RegExp(`${scanner.v4.replace(/[.]/g, '\\.')} has been blocked`), 60_000);
      assert.ok((await blocked4()).includes(scanner.v4));
      assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), false);
      assert.equal(await tcpReachable(lab, client, target.v4, SERVICE_PORT), true, 'an innocent client still gets through');
    } finally {
      await daemon.stop();
      await lab.exec(target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    }
  });
});
