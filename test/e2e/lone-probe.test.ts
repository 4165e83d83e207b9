// The case PortSentry exists for: one scanner touches one tripwire once, on a network where
// nothing else moves, and nothing comes after it to "release" it. Each probe is judged the
// moment its line is due: the helper must log it and the kernel must hold the block without
// any later packet, pipe flush or timer of another event. Both control sockets are off (a
// server that never talks to the app), in each detection mode; IPv6 router solicitations are
// turned off in the lab and the test waits until the target's wire is silent before probing.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText } from '../support/helper-config.js';
import { startOwnHelper } from '../support/own-helper.js';
import { until } from '../support/wait.js';

const HOSTS = ['target', 'udp', 'connect', 'syn'] as const;

describe('a lone probe on a quiet network', { timeout: 600_000 }, () => {
  let lab: Lab<(typeof HOSTS)[number]>;
  let dir: string;

  before(async () => {
    lab = await createLab(HOSTS);
    for (const host of Object.values(lab.hosts)) await lab.exec(host, ['sysctl', '-qw', 'net.ipv6.conf.eth0.router_solicitations=0']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-lone-'));
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Until a whole second passes in which the target's interfaces see no packet at all. */
  const quiet = (target: LabHost) =>
    until('the network is quiet', async () => (await lab.exec(target, ['timeout', '1', 'tcpdump', '-i', 'any', '-n', '-c', '1', '-q'], { allowFailure: true })).stdout.trim() === '');

  for (const [modes, tcpPort, udpPort] of [
    ['tcp udp', 31337, 31337],
    ['stcp sudp', 31337, 54321],
    ['atcp audp', 700, 700],
  ] as const) {
    it(`is logged and blocked at once in the modes ${modes}, with both control sockets off`, async () => {
      const { target } = lab.hosts;
      const table = `pslone${modes.split(' ')[0]}`;
      // A store, history and sockets of its own: a block from the mode before is not restored here.
      const helper = await startOwnHelper(lab, target, join(dir, table), {
        keys: {
          NFT_TABLE: table,
          MODES: modes,
          TCP_PORTS: '1,31337',
          UDP_PORTS: '1,31337,54321',
          ADVANCED_PORTS_TCP: '1024',
          ADVANCED_PORTS_UDP: '1024',
          RPC_SOCKET: '',
          RPC_ADMIN_SOCKET: '',
        },
      });
      const { daemon } = helper;
      try {
        const lone = async (from: LabHost, argv: string[], line: RegExp) => {
          await quiet(target);
          await lab.exec(from, argv, { allowFailure: true });
          await daemon.waitFor(line);
          assert.ok((await blockedSetsText(lab, target, table)).includes(from.v4), `${from.name}'s block is in the kernel`);
        };
        const { udp, connect, syn } = lab.hosts;
        const ip = (host: LabHost) => host.v4.replaceAll('.', '\\.');
        await lone(
          udp,
          ['python3', '-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('${target.v4}', ${udpPort}))`],
          new RegExp(`Host:? ${ip(udp)}.*(to UDP port|has been blocked)`),
        );
        await lone(connect, ['socat', '-u', 'OPEN:/dev/null', `TCP4:${target.v4}:${tcpPort},connect-timeout=3`], new RegExp(`${ip(connect)}.*TCP port`));
        await lone(syn, ['hping3', '-q', '-S', '-c', '1', '-p', String(tcpPort), target.v4], new RegExp(`${ip(syn)}.*TCP port`));
        for (const host of [udp, connect, syn])
          assert.ok(
            daemon.lines.some((l) => l.includes(`Host ${host.v4} has been blocked`)),
            `${host.name}: the block is logged`,
          );
      } finally {
        await helper.stop();
      }
    });
  }
});
