// End to end, with real parts only: portsentryd runs in its own network namespace, real
// scanners (nmap, socat) attack it from others, and we check what a user would: the
// scanner's traffic is dropped afterwards, legitimate and ignored hosts still get through,
// syslog, history, hosts.deny and KILL_RUN_CMD did their work, and nothing is left behind.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, tcpReachable, type Lab, type LabHost } from '../support/netns-lab.js';
import { SyslogSink } from '../support/syslog-sink.js';
import { blockedSetsText } from '../support/helper-config.js';
import { until } from '../support/wait.js';

const TABLE = 'pse2e';
const SERVICE_PORT = 8080;
const TCP_TRIPWIRES = '1,11,15,79,111,119,143,540,635,1080,1524,2000,5742,6667,12345,12346,31337';
const UDP_TRIPWIRES = '1,7,9,69,161,162,513,635,640,641,700,31335,31337,54321';
const BANNER = '** UNAUTHORIZED ACCESS PROHIBITED **';

async function blockedSet(lab: Lab<never> | Lab<string>, target: LabHost): Promise<string> {
  return blockedSetsText(lab, target, TABLE);
}

describe('portsentryd -tcp -udp in a namespaced network, attacked by nmap', { timeout: 240_000 }, () => {
  let lab: Lab<'target' | 'tcpScanner' | 'udpScanner' | 'prober' | 'friend' | 'client'>;
  let dir: string;
  let sink: SyslogSink;
  let daemon: DaemonProcess;
  let target: LabHost, tcpScanner: LabHost, udpScanner: LabHost, prober: LabHost, friend: LabHost, client: LabHost;
  let service: ReturnType<Lab['spawn']>;

  before(async () => {
    lab = await createLab(['target', 'tcpScanner', 'udpScanner', 'prober', 'friend', 'client']);
    ({ target, tcpScanner, udpScanner, prober, friend, client } = lab.hosts);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-e2e-'));
    sink = await SyslogSink.listen(join(dir, 'syslog.sock'));
    await writeFile(join(dir, 'portsentry.ignore'), `# the friend may scan\n127.0.0.1/32\n${friend.v4}\n${friend.v6}/128\n`);
    await writeFile(
      join(dir, 'portsentry.conf'),
      [
        '# a classic config, as an admin writes it',
        `TCP_PORTS="${TCP_TRIPWIRES}"`,
        `UDP_PORTS="${UDP_TRIPWIRES}"`,
        `IGNORE_FILE="${join(dir, 'portsentry.ignore')}"`,
        `HISTORY_FILE="${join(dir, 'portsentry.history')}"`,
        `BLOCKED_FILE="${join(dir, 'portsentry.blocked')}"`,
        'RESOLVE_HOST = "0"',
        'BLOCK_TCP="1"',
        'BLOCK_UDP="1"',
        'KILL_HOSTS_DENY="ALL: $TARGET$ : DENY"',
        `HOSTS_DENY_FILE="${join(dir, 'hosts.deny')}"`,
        `KILL_RUN_CMD="/usr/bin/touch ${join(dir, 'ran-$TARGET$-$PORT$-$MODE$')}"`,
        'KILL_RUN_CMD_FIRST = "0"',
        `PORT_BANNER="${BANNER}"`,
        'SCAN_TRIGGER="0"',
        `BLOCK_BACKEND="nftables"`,
        `NFT_TABLE="${TABLE}"`,
        `SYSLOG_SOCKET="${join(dir, 'syslog.sock')}"`,
        `RPC_SOCKET="${join(dir, 'run', 'helper.sock')}"`,
        `RPC_ADMIN_SOCKET="${join(dir, 'run', 'admin', 'helper.sock')}"`,
        `STORE_FILE="${join(dir, 'events.db')}"`,
        `OPERATOR_SETTINGS_FILE="${join(dir, 'operator-settings.conf')}"`,
        '',
      ].join('\n'),
    );
    // A real service on a port that is not a tripwire: legitimate hosts must keep reaching it.
    service = lab.spawn(target, ['socat', `TCP6-LISTEN:${SERVICE_PORT},fork,reuseaddr,ipv6only=0`, 'OPEN:/dev/null,rdonly'], { stdio: 'ignore' });
    daemon = startDaemon(lab, target, ['-c', join(dir, 'portsentry.conf'), '-tcp', '-udp']);
    await daemon.waitFor('PortSentry is now active and listening');
    await until('the service listens', () => tcpReachable(lab, client, target.v4, SERVICE_PORT));
  });

  after(async () => {
    service?.kill();
    await daemon?.stop();
    await sink?.close();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('starts with every tripwire bound on IPv4 and IPv6 and logs to syslog', async () => {
    const listening = (await lab.exec(target, ['ss', '-Hlntu'])).stdout;
    for (const port of [1, 143, 31337]) {
      assert.match(listening, new RegExp(`0\\.0\\.0\\.0:${port}\\s`), `TCP/UDP ${port} on IPv4`);
      assert.match(listening, new RegExp(`\\[::\\]:${port}\\s`), `${port} on IPv6`);
    }
    await sink.waitFor(/portsentry\[\d+\]: adminalert: PortSentry is now active and listening\./);
    assert.equal(await tcpReachable(lab, tcpScanner, target.v4, SERVICE_PORT), true, 'nobody is blocked before a scan');
  });

  it('blackholes an IPv4 nmap -sT scanner: its traffic is dropped, others still get through', async () => {
    await lab.exec(tcpScanner, ['nmap', '-sT', '-Pn', '-n', '--max-retries', '0', '-p', TCP_TRIPWIRES, target.v4]);
    await until('the TCP scanner is in the set', async () => (await blockedSet(lab, target)).includes(tcpScanner.v4));
    assert.equal(await tcpReachable(lab, tcpScanner, target.v4, SERVICE_PORT), false, 'scanner can no longer reach the service');
    const ping = await lab.exec(tcpScanner, ['ping', '-c', '1', '-W', '1', target.v4], { allowFailure: true });
    assert.notEqual(ping.code, 0, 'even ICMP from the scanner is dropped');
    assert.equal(await tcpReachable(lab, client, target.v4, SERVICE_PORT), true, 'a legitimate client still reaches the service');
    await sink.waitFor(new RegExp(`attackalert: Connect from host: ${tcpScanner.v4}/${tcpScanner.v4} to TCP port: \\d+`));
    await sink.waitFor(new RegExp(`attackalert: Host ${tcpScanner.v4} has been blocked via dropped route`));
  });

  it('blackholes an IPv6 nmap -sT scanner', async () => {
    assert.equal(await tcpReachable(lab, tcpScanner, target.v6, SERVICE_PORT), true, 'the IPv6 address is a separate host until it scans');
    await lab.exec(tcpScanner, ['nmap', '-6', '-sT', '-Pn', '-n', '--max-retries', '0', '-p', TCP_TRIPWIRES, target.v6]);
    await until('the IPv6 scanner is in the set', async () => (await blockedSet(lab, target)).includes(tcpScanner.v6));
    assert.equal(await tcpReachable(lab, tcpScanner, target.v6, SERVICE_PORT), false);
    assert.equal(await tcpReachable(lab, client, target.v6, SERVICE_PORT), true);
    await sink.waitFor(new RegExp(`attackalert: Connect from host: ${tcpScanner.v6}/${tcpScanner.v6} to TCP port`));
  });

  it('blackholes nmap -sU scanners on IPv4 and IPv6', async () => {
    for (const [address, family] of [
      [target.v4, '-4'],
      [target.v6, '-6'],
    ] as const) {
      const scanner = family === '-4' ? udpScanner.v4 : udpScanner.v6;
      await lab.exec(udpScanner, ['nmap', family, '-sU', '-Pn', '-n', '--max-retries', '0', '-p', UDP_TRIPWIRES, address]);
      await until(`the UDP scanner ${scanner} is in the set`, async () => (await blockedSet(lab, target)).includes(scanner));
      assert.equal(await tcpReachable(lab, udpScanner, address, SERVICE_PORT), false, `${scanner} is dropped`);
      await sink.waitFor(new RegExp(`attackalert: Connect from host: ${scanner}/${scanner} to UDP port: \\d+`));
    }
    assert.equal(await tcpReachable(lab, client, target.v4, SERVICE_PORT), true);
  });

  it('answers a plain connect with the banner, then blocks the prober', async () => {
    const answer = await lab.exec(prober, ['socat', '-u', `TCP4:${target.v4}:143,connect-timeout=2`, 'STDOUT'], { allowFailure: true, timeoutMs: 10_000 });
    assert.match(answer.stdout, /UNAUTHORIZED ACCESS PROHIBITED/);
    await until('the prober is in the set', async () => (await blockedSet(lab, target)).includes(prober.v4));
    assert.equal(await tcpReachable(lab, prober, target.v4, SERVICE_PORT), false);
  });

  it('never blocks an ignored host, however much it scans', async () => {
    await lab.exec(friend, ['nmap', '-sT', '-Pn', '-n', '--max-retries', '0', '-p', TCP_TRIPWIRES, target.v4]);
    await lab.exec(friend, ['nmap', '-6', '-sT', '-Pn', '-n', '--max-retries', '0', '-p', TCP_TRIPWIRES, target.v6]);
    await lab.exec(friend, ['nmap', '-sU', '-Pn', '-n', '--max-retries', '0', '-p', UDP_TRIPWIRES, target.v4]);
    await sink.waitFor(new RegExp(`attackalert: Host: ${friend.v4} is .*Ignoring`));
    const set = await blockedSet(lab, target);
    assert.ok(!set.includes(friend.v4) && !set.includes(friend.v6), 'the friend is not in the set');
    assert.equal(await tcpReachable(lab, friend, target.v4, SERVICE_PORT), true);
    assert.equal(await tcpReachable(lab, friend, target.v6, SERVICE_PORT), true);
  });

  it('wrote history, blocked-file, hosts.deny (once per host) and ran KILL_RUN_CMD with an argv', async () => {
    const history = await readFile(join(dir, 'portsentry.history'), 'utf8');
    assert.match(history, new RegExp(`^\\d+ - \\d\\d/\\d\\d/\\d{4} \\d\\d:\\d\\d:\\d\\d Host: ${tcpScanner.v4}/${tcpScanner.v4} Port: \\d+ TCP Blocked$`, 'm'));
    assert.match(history, new RegExp(`Host: ${udpScanner.v6}/${udpScanner.v6} Port: \\d+ UDP Blocked`));
    assert.match(await readFile(join(dir, 'portsentry.blocked.tcp'), 'utf8'), new RegExp(`Host: ${prober.v4}/`));
    assert.match(await readFile(join(dir, 'portsentry.blocked.udp'), 'utf8'), new RegExp(`Host: ${udpScanner.v4}/`));
    const deny = (await readFile(join(dir, 'hosts.deny'), 'utf8')).split('\n').filter((l) => l !== '');
    assert.equal(deny.filter((l) => l === `ALL: ${tcpScanner.v4} : DENY`).length, 1);
    assert.equal(deny.filter((l) => l === `ALL: [${tcpScanner.v6}] : DENY`).length, 1);
    assert.equal(new Set(deny).size, deny.length, 'no duplicate lines');
    assert.ok(!deny.some((l) => l.includes(friend.v4)));
    assert.ok(existsSync(join(dir, 'ran-198.18.0.13-143-tcp')) || existsSync(join(dir, `ran-${prober.v4}-143-tcp`)), 'KILL_RUN_CMD ran for the prober');
  });

  it('stops cleanly on SIGTERM, keeps the blocks, and --remove-firewall removes only its table', async () => {
    await lab.exec(target, ['nft', 'add', 'table', 'inet', 'someone_else']);
    const exit = await daemon.stop('SIGTERM');
    assert.equal(exit.code, 0);
    assert.ok((await blockedSet(lab, target)).includes(tcpScanner.v4), 'blocks outlive the daemon, as in the original');
    const removed = await lab.exec(target, [process.execPath, (await import('../support/daemon-process.js')).DAEMON_SCRIPT, '-c', join(dir, 'portsentry.conf'), '--remove-firewall']);
    assert.match(removed.stdout, new RegExp(`removed nftables table inet ${TABLE}`));
    const tables = (await lab.exec(target, ['nft', 'list', 'tables'])).stdout;
    assert.ok(!tables.includes(TABLE));
    assert.match(tables, /someone_else/, 'a table that is not ours is left alone');
    assert.equal(await tcpReachable(lab, tcpScanner, target.v4, SERVICE_PORT), true, 'the scanner gets through again');
  });
});
