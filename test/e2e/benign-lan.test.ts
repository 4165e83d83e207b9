// A laptop on home, office or cafe Wi-Fi meets its neighbours' discovery and service traffic
// all day: none of it may get a neighbour blackholed, in any mode, while a real scan from the
// same link is still caught at its first probes. Each kind is played from its own on-link
// address (a device of its own: the Windows PC, the printer manager, the router...), none in the
// ignore list; replies to this host's own DNS, NTP and SSDP queries arrive after the querying
// socket closed. The verdict waits for a barrier, not a clock: a sentinel's probe to a tripwire,
// sent after everything else, is blocked; only then are the neighbours' addresses looked for in
// the kernel's sets and the log.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../support/daemon-process.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { until } from '../support/wait.js';
import { ADDRESS, deviceAddressArgv, DEVICES, KINDS, udp } from '../support/lan-traffic.js';

// PortSentry 1.2's default tripwires, so the LAN ports among them (SNMP 161/162) are met too.
const TCP_PORTS = '1,11,15,79,111,119,143,540,635,1080,1524,2000,5742,6667,12345,12346,20034,27665,31337,32771,32772,32773,32774,40421,49724,54320';
const UDP_PORTS = '1,7,9,69,161,162,513,635,640,641,700,37444,34555,31335,32770,32771,32772,32773,32774,31337,54321';

describe("a laptop's LAN: neighbours' discovery and service traffic blocks no one, a scan is still caught", { timeout: 900_000 }, () => {
  let lab: Lab<'target' | 'neighbour' | 'sentinel' | 'scanner'>;
  let dir: string;

  before(async () => {
    lab = await createLab(['target', 'neighbour', 'sentinel', 'scanner']);
    const { target, neighbour } = lab.hosts;
    for (const device of DEVICES) await lab.exec(neighbour, deviceAddressArgv(device));
    // The test host's multicast queries (SSDP, LLMNR, WS-Discovery) need a route out.
    await lab.exec(target, ['ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-lan-'));
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  for (const modes of ['tcp udp', 'stcp sudp', 'atcp audp'] as const) {
    it(`no neighbour is blocked in the modes ${modes}, and nmap from the same link is caught`, async () => {
      const { target, neighbour, sentinel, scanner } = lab.hosts;
      const table = `pslan${modes.split(' ')[0]}`;
      const own = join(dir, table);
      await mkdir(own);
      await writeFile(join(own, 'ignore'), '');
      const conf = join(own, 'portsentry.conf');
      await writeFile(conf, helperConfigText(own, { NFT_TABLE: table, MODES: modes, TCP_PORTS, UDP_PORTS, RPC_SOCKET: '', RPC_ADMIN_SOCKET: '' }));
      const daemon = startDaemon(lab, target, ['-c', conf]);
      try {
        await daemon.waitFor('PortSentry is now active and listening');
        for (const kind of KINDS) {
          if (kind.query !== undefined) await lab.exec(target, kind.query(target.v4, modes));
          await lab.exec(neighbour, kind.play(target.v4, target.v6, modes), { allowFailure: true });
        }
        // The barrier: a probe of a tripwire no client uses, sent after all of the above (UDP 700
        // is watched in every mode), is handled after them; its block is in the kernel.
        await lab.exec(sentinel, udp(sentinel.v4, 40_700, target.v4, 700));
        await daemon.waitFor(`Host ${sentinel.v4} has been blocked`);
        await until('the sentinel is in the kernel set', async () => (await blockedSetsText(lab, target, table)).includes(sentinel.v4));
        const sets = await blockedSetsText(lab, target, table);
        for (const device of DEVICES) {
          const address = ADDRESS[device];
          assert.ok(!sets.includes(address), `${device} (${address}) is not in the kernel's block sets:\n${sets}`);
          assert.ok(!daemon.lines.some((line) => line.includes(`Host ${address} has been blocked`)), `${device} is not logged as blocked`);
        }
        // The printer manager's SNMP query was seen (161 is watched in every mode), and reported only.
        assert.ok(
          daemon.lines.some((line) => line.includes(`Host: ${ADDRESS.printerManager} touched UDP port: 161, reported, not blocked`)),
          `the SNMP query is reported:\n${daemon.lines.join('\n')}`,
        );
        // A real scan from the same link: caught at its first probes.
        const stealthy = !modes.startsWith('tcp');
        await lab.exec(scanner, ['nmap', stealthy ? '-sS' : '-sT', '-Pn', '-n', '--max-retries', '0', '-p', '1-1024', target.v4], { allowFailure: true, timeoutMs: 300_000 });
        await daemon.waitFor(`Host ${scanner.v4} has been blocked`);
        await until('the scanner is in the kernel set', async () => (await blockedSetsText(lab, target, table)).includes(scanner.v4));
      } finally {
        await daemon.stop();
        await lab.exec(target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
      }
    });
  }
});
