// On a router (or a Docker or libvirt host) most packets only pass through. Only packets
// addressed to one of the host's own addresses are probes, in every sensor path: a client
// behind the router talking to a server behind it, again and again, on ports the router
// watches, is never blocked, while a real scan of the router itself still is.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { createRouterLab, type RouterLab } from '../support/router-lab.js';
import { tcpReachable } from '../support/netns-lab.js';
import { until } from '../support/wait.js';

const TABLE = 'psrouter';
// 80 is in the advanced range and a stealth tripwire; the router itself listens on neither.
const TCP_TRIPWIRES = '79,80,143,31337';
const UDP_TRIPWIRES = '69,161';
/** Tripwires the client never reaches through the router: its probe of the router itself. */
const BARRIER_PORTS = '79,31337';

describe('a router never blocks the clients whose traffic it forwards', { timeout: 300_000 }, () => {
  let lab: RouterLab;
  let dir: string;
  let daemon: DaemonProcess;
  const services: ReturnType<RouterLab['spawn']>[] = [];

  before(async () => {
    lab = await createRouterLab();
    dir = await mkdtemp(join(tmpdir(), 'portsentry-router-'));
    await writeFile(join(dir, 'ignore'), '');
    await writeFile(
      join(dir, 'portsentry.conf'),
      helperConfigText(dir, { TCP_PORTS: TCP_TRIPWIRES, UDP_PORTS: UDP_TRIPWIRES, ADVANCED_PORTS_TCP: '1024', ADVANCED_PORTS_UDP: '1024', SCAN_TRIGGER: '0', NFT_TABLE: TABLE }),
    );
    const { server, router } = lab.hosts;
    // The server behind the router: an HTTP-like service on 80 and one on 143, IPv4 and IPv6.
    for (const port of [80, 143]) {
      services.push(lab.spawn(server, ['socat', `TCP6-LISTEN:${port},fork,reuseaddr,ipv6only=0`, 'SYSTEM:echo HTTP/1.0 200 OK'], { stdio: 'ignore' }));
    }
    services.push(lab.spawn(server, ['socat', 'UDP6-RECVFROM:161,fork,ipv6only=0', 'SYSTEM:echo pong'], { stdio: 'ignore' }));
    await until('the server listens', () => tcpReachable(lab, lab.hosts.client, server.v4, 80));
    daemon = startDaemon(lab, router, ['-c', join(dir, 'portsentry.conf'), '-tcp', '-stcp', '-atcp', '-sudp']);
    await daemon.waitFor('PortSentry is now active and listening');
  });

  after(async () => {
    for (const service of services) service.kill();
    await daemon?.stop();
    await lab?.exec(lab.hosts.router, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('repeated requests from the client to the server through the router block nothing', async () => {
    const { client, server, router } = lab.hosts;
    for (let round = 0; round < 5; round += 1) {
      for (const [address, family] of [
        [server.v4, 4],
        [server.v6, 6],
      ] as const) {
        for (const port of [80, 143]) {
          const target = family === 4 ? `TCP4:${address}:${port}` : `TCP6:[${address}]:${port}`;
          const answer = await lab.exec(client, ['socat', '-T', '3', '-', `${target},connect-timeout=3`], { allowFailure: true, timeoutMs: 15_000 });
          assert.match(answer.stdout, /200 OK/, `round ${round}: request to ${address}:${port} answered\n${daemon.lines.join('\n')}`);
        }
        const udpTarget = family === 4 ? `UDP4:${address}:161` : `UDP6:[${address}]:161`;
        await lab.exec(client, ['socat', '-T', '1', '-', udpTarget], { allowFailure: true, timeoutMs: 10_000 });
      }
    }
    const sets = await blockedSetsText(lab, router, TABLE);
    assert.ok(!sets.includes(client.v4) && !sets.includes(client.v6), `the client is not in the blocked sets:\n${sets}\n${daemon.lines.join('\n')}`);
    assert.equal(await tcpReachable(lab, client, server.v4, 80), true);
    // A barrier instead of a pause: the client now probes the router itself on ports it never
    // used through it. The capture path handles packets in order, so once that probe is
    // reported, everything the client sent before it has been judged, however slow the machine.
    await lab.exec(client, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', BARRIER_PORTS, router.v4], { timeoutMs: 60_000 });
    const first = await daemon.waitFor(new RegExp(`from host: ${client.v4.replace(/\./g, '\\.')}/`));
    assert.match(first, new RegExp(`to TCP port: (${BARRIER_PORTS.replace(',', '|')})$`), `the client's first alert is its probe of the router:\n${daemon.lines.join('\n')}`);
    const aboutClient = daemon.lines.filter((l) => l.includes(`from host: ${client.v4}`) || l.includes(`from host: ${client.v6}`));
    assert.deepEqual(
      aboutClient.filter((l) => !new RegExp(`TCP port: (${BARRIER_PORTS.replace(',', '|')})$`).test(l)),
      [],
      'no alert for what the client sent through the router',
    );
  });

  it('a scan of the router itself is still caught and blocked', async () => {
    const { client, router } = lab.hosts;
    await lab.exec(client, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', TCP_TRIPWIRES, router.v4], { timeoutMs: 60_000 });
    await daemon.waitFor(new RegExp(`from host: ${client.v4.replace(/\./g, '\\.')}/`));
    await until(
      'the scanner is blocked',
      async () => (await blockedSetsText(lab, router, TABLE)).includes(client.v4),
      60_000,
      () => daemon.lines.join('\n'),
    );
  });
});
