// Every kind of line we log, held to a real PortSentry 1.2 line of the same kind (in the manner
// of fail2ban's samplestestcase): Debian's portsentry and ours run the advanced TCP mode on two
// lab hosts with the same settings, one scanner scans both, and the lines each sent to its
// syslog socket are compared kind by kind, with addresses, numbers and quoted commands masked.
// Then the tools sysadmins feed them to read both: logwatch's portsentry service must list the
// same ports per host for ours (with 1.2's repeat policy, REPEAT_LOG absent) as for the peer,
// and fail2ban-regex with Debian's portsentry filter must find the scanner in both history files.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { unpackDebianPortsentry } from '../support/debian-portsentry.js';
import { startDaemon, withPrivateMounts, type DaemonProcess } from '../support/daemon-process.js';
import { helperConfigText, startTcpService } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { SyslogSink } from '../support/syslog-sink.js';

const run = promisify(execFile);
const SCANNED = [1, 11, 15, 79, 111, 119, 143];
/** A service on a low port, which both must name as ignored ("Ignored TCP port: 21"). */
const LOW_SERVICE = 21;
const SENTINEL_PORT = 1000;

/** The kinds of line both write in this run; each of ours must have the shape of 1.2's. */
const KINDS: Record<string, RegExp> = {
  'advanced monitor': /^adminalert: Advanced mode will monitor first/,
  'manual exclude': /^adminalert: Advanced mode will manually exclude port:/,
  'ignored port': /^adminalert: Advanced Stealth scan detection mode activated\. Ignored TCP port:/,
  active: /^adminalert: PortSentry is now active and listening\.$/,
  attack: /^attackalert: TCP SYN\/Normal scan from host:/,
  blocked: /^attackalert: Host \S+ has been blocked via dropped route using command:/,
  'already blocked': /^attackalert: Host: \S+ is already blocked Ignoring$/,
};

/** Masks what differs by host and run: addresses, numbers, the quoted command. */
function shape(line: string): string {
  return line
    .replace(/"[^"]*"/g, '"CMD"')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, 'ADDR')
    .replace(/\d+/g, 'N');
}

/** `<29>Dec  7 23:50:00 portsentry[12]: text` (glibc and logger(1) alike) -> its parts. */
function parseRecord(record: string): { stamp: string; tag: string; text: string } | null {
  const match = /^<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (portsentry(?:\[\d+\])?): (.*)$/.exec(record);
  return match === null ? null : { stamp: match[1]!, tag: match[2]!, text: match[3]! };
}

function texts(sink: SyslogSink): string[] {
  return sink.messages.map(parseRecord).flatMap((r) => (r === null ? [] : [r.text]));
}

async function waitForText(sink: SyslogSink, test: (text: string) => boolean, what: string): Promise<void> {
  // A safety net of 60 s, never the verdict: the verdicts are on the lines themselves.
  for (let i = 0; i < 1200; i++) {
    if (texts(sink).some(test)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never logged: ${what}; got:\n${texts(sink).join('\n')}`);
}

/** logwatch's portsentry report over the records, written as syslog files hold them. */
async function logwatchReport(dir: string, host: string, sink: SyslogSink): Promise<string> {
  await mkdir(dir, { recursive: true });
  const lines = sink.messages.map(parseRecord).flatMap((r) => (r === null ? [] : [`${r.stamp} ${host} ${r.tag}: ${r.text}`]));
  await writeFile(join(dir, 'messages'), `${lines.join('\n')}\n`);
  const { stdout } = await run('logwatch', ['--service', 'portsentry', '--logdir', dir, '--range', 'All', '--detail', 'High', '--output', 'stdout'], { timeout: 120_000 });
  return String(stdout);
}

/** The report's port list for one host: "198.18.0.3: ports: 1 11 15 79 111 119 143" -> "1 11 15 79 111 119 143". */
function portsOf(report: string, address: string): string {
  const match = new RegExp(`${address.replace(/\./g, '\\.')}: ports:(.*)`).exec(report);
  assert.ok(match, `no port list for ${address} in:\n${report}`);
  return match[1]!.trim();
}

/** A report's section (ignored or excluded ports) from its title to the next blank line. */
function section(report: string, title: string): string {
  const start = report.indexOf(title);
  assert.ok(start >= 0, `no "${title}" in:\n${report}`);
  return report.slice(start, report.indexOf('\n \n', start));
}

async function peerPids(netns: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', netns]);
  const pids: number[] = [];
  for (const text of String(stdout)
    .split(/\s+/)
    .filter((s) => s !== '')) {
    const comm = await readFile(`/proc/${text}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'portsentry') pids.push(Number(text));
  }
  return pids;
}

describe("log lines held to PortSentry 1.2's, read by logwatch and fail2ban", { timeout: 600_000 }, () => {
  let lab: Lab<'ours' | 'peer' | 'scanner' | 'sentinel'>;
  let dir: string;
  let ourSink: SyslogSink;
  let peerSink: SyslogSink;
  let daemon: DaemonProcess;
  const services: ReturnType<Lab['spawn']>[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'log-samples-'));
    lab = await createLab(['ours', 'peer', 'scanner', 'sentinel']);
    const { ours, peer } = lab.hosts;
    for (const host of [ours, peer]) services.push(await startTcpService(lab, host, LOW_SERVICE));

    // The peer: Debian's package config with blocking on (its KILL_ROUTE, a reject route in
    // the peer's namespace) and no hosts.deny line, which would write the machine's file. Its
    // compiled-in paths (/etc/portsentry, /var/lib/portsentry, /dev/log) are the test's own,
    // for it alone: /dev is a directory of the test's with a null device and the sink's socket.
    const debian = await unpackDebianPortsentry(dir);
    const shipped = await readFile(debian.conf, 'utf8');
    await writeFile(
      debian.conf,
      shipped
        .split('\n')
        .filter((line) => !line.startsWith('KILL_HOSTS_DENY='))
        .map((line) => line.replace(/^BLOCK_TCP=.*/, 'BLOCK_TCP="1"'))
        .join('\n'),
    );
    const peerDev = join(dir, 'peer-dev');
    const peerVar = join(dir, 'peer-var');
    await mkdir(peerDev);
    await mkdir(peerVar);
    await run('mknod', ['-m', '0666', join(peerDev, 'null'), 'c', '1', '3']);
    peerSink = await SyslogSink.listen(join(peerDev, 'log'));
    const mounts = ['--bind', debian.etcDir, '/etc/portsentry', '--bind', peerVar, '/var/lib/portsentry', '--bind', peerDev, '/dev'];
    // It daemonizes: the command returns, the daemon stays in its mount namespace.
    await lab.exec(peer, withPrivateMounts(mounts, ['/usr/sbin/portsentry', '-atcp']));
    await waitForText(peerSink, (t) => t.startsWith('adminalert: PortSentry is now active'), "the peer's start");

    // Ours: the same settings, REPEAT_LOG absent as in any 1.2 config.
    const ourDir = join(dir, 'ours');
    await mkdir(ourDir);
    await writeFile(join(ourDir, 'ignore'), '');
    ourSink = await SyslogSink.listen(join(ourDir, 'log.sock'));
    const keys = { ADVANCED_PORTS_TCP: '1024', ADVANCED_EXCLUDE_TCP: '113,139', RESOLVE_HOST: '0', SCAN_TRIGGER: '0', BLOCK_UDP: '0', SYSLOG_SOCKET: join(ourDir, 'log.sock') };
    const text = helperConfigText(ourDir, keys)
      .split('\n')
      .filter((line) => !line.startsWith('REPEAT_LOG='))
      .join('\n');
    await writeFile(join(ourDir, 'portsentry.conf'), text);
    daemon = startDaemon(lab, ours, ['-c', join(ourDir, 'portsentry.conf'), '-atcp']);
    await daemon.waitFor('PortSentry is now active and listening');

    // The scan, then a barrier: the sentinel probes each target after it. The peer reads
    // packets in order; ours does too, and its firewall and history writes are serialized, so
    // the sentinel's second probe ("already blocked") is logged after the scanner's.
    for (const host of [peer, ours]) {
      await lab.exec(lab.hosts.scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', SCANNED.join(','), host.v4], { timeoutMs: 120_000 });
      for (let i = 0; i < 2; i++) await lab.exec(lab.hosts.sentinel, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', String(SENTINEL_PORT), host.v4]);
    }
    const sentinel = lab.hosts.sentinel.v4;
    for (const sink of [peerSink, ourSink]) await waitForText(sink, (t) => t.includes(`Host: ${sentinel}/${sentinel} is already blocked`), "the sentinel's repeat");
  });

  after(async () => {
    await daemon?.stop();
    if (lab !== undefined) {
      for (const pid of await peerPids(lab.hosts.peer.netns)) process.kill(pid, 'SIGKILL');
      for (const service of services) service.kill();
      await lab.exec(lab.hosts.ours, ['nft', 'delete', 'table', 'inet', 'portsentry'], { allowFailure: true });
      await lab.destroy();
    }
    await ourSink?.close();
    await peerSink?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('each kind of line has the shape of the real 1.2 line of that kind', () => {
    const peerLines = texts(peerSink);
    const ourLines = texts(ourSink);
    for (const [kind, pattern] of Object.entries(KINDS)) {
      const peerShapes = new Set(peerLines.filter((t) => pattern.test(t)).map(shape));
      const ourShapes = new Set(ourLines.filter((t) => pattern.test(t)).map(shape));
      assert.ok(peerShapes.size > 0, `the peer wrote no ${kind} line:\n${peerLines.join('\n')}`);
      assert.ok(ourShapes.size > 0, `we wrote no ${kind} line:\n${ourLines.join('\n')}`);
      assert.deepEqual([...ourShapes], [...peerShapes], kind);
    }
    // To the last character: 1.2's trailing space, exactly where 1.2 has it.
    assert.ok(ourLines.includes('adminalert: Advanced mode will manually exclude port: 113 '), ourLines.join('\n'));
    assert.ok(peerLines.includes('adminalert: Advanced mode will manually exclude port: 113 '), peerLines.join('\n'));
  });

  it("logwatch's portsentry report lists the same ports per host, and the same ignored and excluded ports, for ours and the peer", async () => {
    const peerReport = await logwatchReport(join(dir, 'logwatch-peer'), 'peer', peerSink);
    const ourReport = await logwatchReport(join(dir, 'logwatch-ours'), 'ours', ourSink);
    const scanner = lab.hosts.scanner.v4;
    assert.equal(portsOf(peerReport, scanner), '1 11 15 79 111 119 143', peerReport);
    assert.equal(portsOf(ourReport, scanner), portsOf(peerReport, scanner), ourReport);
    assert.equal(section(ourReport, 'Ignored following ports'), section(peerReport, 'Ignored following ports'));
    assert.equal(section(ourReport, 'Excluded following ports'), section(peerReport, 'Excluded following ports'));
    assert.doesNotMatch(ourReport, /Unmatched entries[\s\S]*attackalert/, ourReport);
  });

  it("fail2ban-regex with Debian's portsentry filter finds the scanner in both history files, every line matched", async () => {
    const filter = '/etc/fail2ban/filter.d/portsentry.conf';
    for (const history of [join(dir, 'peer-var', 'portsentry.history'), join(dir, 'ours', 'history')]) {
      const { stdout } = await run('fail2ban-regex', [history, filter], { timeout: 120_000 });
      assert.match(String(stdout), /Lines: (\d+) lines, 0 ignored, \1 matched, 0 missed/, `${history}:\n${String(stdout)}`);
      const ips = await run('fail2ban-regex', ['--out', 'ip', history, filter], { timeout: 120_000 });
      assert.ok(String(ips.stdout).split('\n').includes(lab.hosts.scanner.v4), `${history}: ${String(ips.stdout)}`);
    }
  });
});
