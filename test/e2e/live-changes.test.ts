// Live changes of settings seen as an attacker and a service owner would: a switch from the
// classic modes (tcp udp) to the stealth ones (stcp sudp) through `config set` leaves the
// helper seeing what it must (no "in use" line about its own closing tripwires; a lone SYN
// and a lone datagram are each logged, evented and blocked in the kernel), and a tripwire
// port another program holds stays that program's: the helper says so once, holds it in
// neither family, the program gets it back when it restarts, and an IPv6 client of an
// IPv4-only service is not blocked. A port that is free when added is taken.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../support/daemon-process.js';
import { createLab, tcpReachable, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { eventsOf, portsentryctl } from '../support/portsentryctl.js';
import { until } from '../support/wait.js';

/** PortSentry 1.2's port lists (the embedded defaults): 26 TCP and 21 UDP tripwires. */
const TCP_PORTS = '1,11,15,79,111,119,143,540,635,1080,1524,2000,5742,6667,12345,12346,20034,27665,31337,32771,32772,32773,32774,40421,49724,54320';
const UDP_PORTS = '1,7,9,69,161,162,513,635,640,641,700,37444,34555,31335,32770,32771,32772,32773,32774,31337,54321';
const SERVICE_PORT = 2222;
const FREE_PORT = 2223;

/** A helper in its own lab, driven by root's portsentryctl. */
async function helperLab<Name extends string>(names: readonly Name[], tag: string, keys: Record<string, string>) {
  const lab = await createLab(['target', ...names]);
  const dir = await mkdtemp(join(tmpdir(), `portsentry-${tag}-`));
  const table = `ps${tag}${process.pid}`.slice(0, 30);
  await writeFile(join(dir, 'ignore'), '# live changes test\n');
  const conf = join(dir, 'portsentry.conf');
  await writeFile(conf, helperConfigText(dir, { NFT_TABLE: table, SCAN_TRIGGER: '0', ...keys }));
  const daemon = startDaemon(lab, lab.hosts.target, ['-c', conf]);
  await daemon.waitFor('Control socket listening on');
  const ctl = portsentryctl(join(dir, 'run', 'admin', 'helper.sock'));
  const set = async (...assignments: string[]) => {
    const result = await ctl(['config', 'set', ...assignments]);
    assert.equal(result.code, 0, `${assignments.join(' ')}: ${result.stdout}${result.stderr}`);
  };
  const eventsFrom = (host: string) => eventsOf(ctl, host);
  /** The helper's own sockets on a port, as "tcp/4", "tcp/6", ... (ss, filtered to its pid). */
  const helperSockets = async (port: number): Promise<string[]> => {
    const out = (await lab.exec(lab.hosts.target, ['ss', '-H', '-ltunp', 'sport', `= :${port}`])).stdout;
    return out
      .split('\n')
      .filter((line) => line.includes(`pid=${daemon.child.pid},`))
      .map((line) => `${line.split(/\s+/)[0]}/${line.split(/\s+/)[4]!.startsWith('[') ? 6 : 4}`)
      .sort();
  };
  const destroy = async () => {
    await daemon.stop();
    await lab.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  return { lab, daemon, table, ctl, set, eventsFrom, helperSockets, destroy };
}

describe('a live switch from tcp udp to stcp sudp leaves the helper seeing every probe', { timeout: 300_000 }, () => {
  let h: Awaited<ReturnType<typeof helperLab<'syn' | 'datagram'>>>;

  before(async () => {
    h = await helperLab(['syn', 'datagram'], 'switch', { TCP_PORTS, UDP_PORTS, MODES: 'tcp udp', KERNEL_TRAP: '1' });
    await h.daemon.waitFor('PortSentry is now active and listening');
  });

  after(async () => {
    await h?.destroy();
  });

  it('says nothing is "in use" about its own tripwires, then logs, records and blocks a lone SYN and a lone datagram', async () => {
    const mark = h.daemon.lines.length;
    await h.set('MODES=stcp sudp');
    const ports = [...TCP_PORTS.split(',').map((p) => `TCP port: ${p}`), ...UDP_PORTS.split(',').map((p) => `UDP port: ${p}`)];
    // Every port gets its start-up line, one way or the other: then all of them have been said.
    const said = () => h.daemon.lines.slice(mark).filter((line) => /Going into stealth listen mode on|is in use and will not be monitored/.test(line));
    await until('every stealth port is announced', () => said().length >= ports.length);
    assert.deepEqual(
      said().filter((line) => /in use/.test(line)),
      [],
      'no tripwire port of its own is "in use"',
    );
    assert.equal(said().length, ports.length);

    const { target, syn, datagram } = h.lab.hosts;
    await h.lab.exec(syn, ['hping3', '-q', '-S', '-c', '1', '-p', '31337', target.v4], { allowFailure: true });
    await h.daemon.waitFor(`attackalert: TCP SYN/Normal scan from host: ${syn.v4}/${syn.v4} to TCP port: 31337`);
    await until('the SYN is recorded', async () => (await h.eventsFrom(syn.v4)).some((e) => e.type === 'scan' && e.port === 31337 && e.mode === 'stcp'));
    assert.match(await blockedSetsText(h.lab, target, h.table), new RegExp(syn.v4.replace(/\./g, '\\.')));

    await h.lab.exec(datagram, ['hping3', '-q', '--udp', '-c', '1', '-p', '54321', target.v4], { allowFailure: true });
    await h.daemon.waitFor(`attackalert: UDP scan from host: ${datagram.v4}/${datagram.v4} to UDP port: 54321`);
    await until('the datagram is recorded', async () => (await h.eventsFrom(datagram.v4)).some((e) => e.type === 'scan' && e.port === 54321 && e.mode === 'sudp'));
    assert.match(await blockedSetsText(h.lab, target, h.table), new RegExp(datagram.v4.replace(/\./g, '\\.')));
  });
});

describe("a tripwire port another program holds is that program's", { timeout: 300_000 }, () => {
  let h: Awaited<ReturnType<typeof helperLab<'client' | 'sentinel'>>>;
  let service: ReturnType<Lab['spawn']> | undefined;
  const base = '1,11,15,79';

  /** socat serving TCP on IPv4 only; resolves once it listens. */
  const startService = async (target: LabHost) => {
    const child = h.lab.spawn(target, ['socat', `TCP4-LISTEN:${SERVICE_PORT},fork,reuseaddr`, 'OPEN:/dev/null,rdonly'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await until('the service listens', async () => {
      if (child.exitCode !== null) throw new Error(`the service could not start (exit ${child.exitCode}): its port is taken`);
      return (await h.lab.exec(target, ['ss', '-Hltnp', 'sport', `= :${SERVICE_PORT}`])).stdout.includes(`pid=${child.pid},`);
    });
    return { child, exited };
  };

  before(async () => {
    h = await helperLab(['client', 'sentinel'], 'owner', { TCP_PORTS: base, UDP_PORTS: '7', MODES: 'tcp udp', IPV6: '1' });
    await h.daemon.waitFor('PortSentry is now active and listening');
  });

  after(async () => {
    service?.kill();
    await h?.destroy();
  });

  it('a port in use when added is reported once and held in neither family; an IPv6 client of the service is not blocked', async () => {
    const { target, client, sentinel } = h.lab.hosts;
    const first = await startService(target);
    service = first.child;
    await h.set(`TCP_PORTS=${base},${SERVICE_PORT}`);
    // config set answers once the change is in force.
    assert.deepEqual(await h.helperSockets(SERVICE_PORT), [], 'the helper holds the port in neither family');
    await h.daemon.waitFor(`could not bind TCP socket: ${SERVICE_PORT}. Attempting to continue (port ${SERVICE_PORT} is in use by another program and is not a tripwire)`);
    const status = JSON.parse((await h.ctl(['--json', 'status'])).stdout) as { portsInUseByOthers?: { tcp: number[]; udp: number[] } };
    assert.deepEqual(status.portsInUseByOthers, { tcp: [SERVICE_PORT], udp: [] });
    assert.match((await h.ctl(['status'])).stdout, new RegExp(`not tripwires, in use by other programs: TCP ${SERVICE_PORT}\\n`));

    // An IPv6 client of the service: nobody serves it there, and nobody blocks it either.
    assert.equal(await tcpReachable(h.lab, client, target.v6, SERVICE_PORT), false);
    // Barrier: a tripwire touched after it is handled after it.
    assert.equal(await tcpReachable(h.lab, sentinel, target.v6, 11), true);
    await h.daemon.waitFor(`attackalert: Connect from host: ${sentinel.v6}/${sentinel.v6} to TCP port: 11`);
    assert.deepEqual(await h.eventsFrom(client.v6), []);
    assert.ok(!(await blockedSetsText(h.lab, target, h.table)).includes(client.v6), 'not in the blocked sets');

    // The service restarts (an upgrade): it gets its port back.
    service.kill();
    await first.exited;
    service = (await startService(target)).child;
    assert.deepEqual(await h.helperSockets(SERVICE_PORT), []);
    assert.equal(await tcpReachable(h.lab, client, target.v4, SERVICE_PORT), true, 'the service serves again');
  });

  it('a port free when added is taken in both families; the held one is not reported again', async () => {
    await h.set(`TCP_PORTS=${base},${SERVICE_PORT},${FREE_PORT}`);
    assert.deepEqual(await h.helperSockets(FREE_PORT), ['tcp/4', 'tcp/6']);
    assert.deepEqual(await h.helperSockets(SERVICE_PORT), []);
    assert.equal(h.daemon.lines.filter((line) => line.includes(`(port ${SERVICE_PORT} is in use by another program`)).length, 1, 'said once');
  });
});
