// Probe kinds at the edges of what a scan is, seen from outside in the stealth and advanced
// modes with capture from netfilter and the kernel trap on. A segment with a bad checksum
// (nmap --badsum, hping3 -b) is dropped by the target's own stack: it reveals nothing, so it
// must block no one and log nothing (else anyone could fingerprint the detector with it, and
// spoofing would cost less). Each verdict of absence waits on a barrier: a later good probe
// from a sentinel host, handled in order after the ones judged, is logged first.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';

const HOSTS = ['target', 'badsum', 'badudp', 'sentinel', 'badsumA', 'badudpA', 'sentinelA'] as const;
type Host = (typeof HOSTS)[number];

function escaped(address: string): string {
  return address.replace(/[.]/g, '\\.');
}

const MODES = [
  { modes: 'stcp sudp', tcpPort: 31337, udpPort: 54321, hosts: { badsum: 'badsum', badudp: 'badudp', sentinel: 'sentinel' } },
  { modes: 'atcp audp', tcpPort: 700, udpPort: 700, hosts: { badsum: 'badsumA', badudp: 'badudpA', sentinel: 'sentinelA' } },
] as const satisfies ReadonlyArray<{ modes: string; tcpPort: number; udpPort: number; hosts: Record<string, Host> }>;

describe('probe kinds: what is a scan and what is not', { timeout: 900_000 }, () => {
  let lab: Lab<Host>;
  let dir: string;

  before(async () => {
    lab = await createLab(HOSTS);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-kinds-'));
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  for (const mode of MODES) {
    describe(`portsentryd with ${mode.modes}`, () => {
      let daemon: DaemonProcess;
      const table = `pskinds${mode.modes.split(' ')[0]}`;
      const host = (name: keyof typeof mode.hosts): LabHost => lab.hosts[mode.hosts[name]];

      before(async () => {
        const own = join(dir, table);
        await mkdir(own);
        await writeFile(join(own, 'ignore'), '');
        const conf = join(own, 'portsentry.conf');
        await writeFile(
          conf,
          helperConfigText(own, {
            NFT_TABLE: table,
            MODES: mode.modes,
            TCP_PORTS: '1,79,111,31337',
            UDP_PORTS: '1,31337,54321',
            ADVANCED_PORTS_TCP: '1024',
            ADVANCED_PORTS_UDP: '1024',
            SCAN_TRIGGER: '0',
          }),
        );
        daemon = startDaemon(lab, lab.hosts.target, ['-c', conf]);
        await daemon.waitFor('PortSentry is now active and listening');
      });

      after(async () => {
        await daemon?.stop();
        await lab.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
      });

      it('a bad checksum (nmap --badsum -sS over IPv4 and IPv6, hping3 -b UDP) blocks no one and logs nothing', async () => {
        const { target } = lab.hosts;
        const badsum = host('badsum');
        const badudp = host('badudp');
        const sentinel = host('sentinel');
        const nmap = ['nmap', '-sS', '--badsum', '-Pn', '-n', '--max-retries', '0', '-p', String(mode.tcpPort)];
        await lab.exec(badsum, [...nmap, '-4', target.v4], { timeoutMs: 60_000 });
        await lab.exec(badsum, [...nmap, '-6', target.v6], { timeoutMs: 60_000 });
        await lab.exec(badudp, ['hping3', '-q', '--udp', '-b', '-c', '1', '-p', String(mode.udpPort), target.v4], { allowFailure: true });
        // The barrier: a good probe from a fresh source, sent after them, handled in order after them.
        await lab.exec(sentinel, ['hping3', '-q', '-S', '-c', '1', '-p', String(mode.tcpPort), target.v4], { allowFailure: true });
        await daemon.waitFor(new RegExp(`Host ${escaped(sentinel.v4)} has been blocked`));
        const sets = await blockedSetsText(lab, target, table);
        assert.ok(sets.includes(sentinel.v4), `the sentinel is blocked:\n${sets}`);
        for (const address of [badsum.v4, badsum.v6, badudp.v4]) {
          assert.ok(!sets.includes(address), `${address} sent only bad checksums, yet is in a blocked set:\n${sets}`);
          const said = daemon.lines.filter((l) => l.includes(address));
          assert.deepEqual(said, [], `${address} sent only bad checksums, yet was logged`);
        }
      });
    });
  }
});
