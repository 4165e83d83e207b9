// portsentryd's life as an admin sees it: Debian's own portsentry.conf (from its package, at
// the path it ships at, with /var/lib and /run the daemon's own) runs unchanged, bad
// configs are refused with file and line before anything happens, SIGHUP applies a good
// config and keeps the old one on a bad one, SCAN_TRIGGER counts touches.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import { DAEMON_SCRIPT, startDaemon, withPrivateMounts } from '../support/daemon-process.js';
import { unpackDebianPortsentry } from '../support/debian-portsentry.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { helperConfigText } from '../support/helper-config.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
/** Where Debian's package puts its config; the test mounts the package's own copy there, for the daemon alone. */
const DEBIAN_CONF = '/etc/portsentry/portsentry.conf';

async function daemonExit(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DAEMON_SCRIPT, ...args], { timeout: 20_000 });
    return { code: 0, stdout: String(stdout), stderr: String(stderr) };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failure.code ?? -1, stdout: String(failure.stdout ?? ''), stderr: String(failure.stderr ?? '') };
  }
}

describe('portsentryd lifecycle', { timeout: 180_000 }, () => {
  let lab: Lab<'target' | 'scanner' | 'second'>;
  let dir: string;
  const base = (extra: string[]) => helperConfigText(dir, { TCP_PORTS: '1,11,15,79,143', UDP_PORTS: '1,7,9', NFT_TABLE: 'pslife' }) + extra.map((line) => `${line}\n`).join('');

  before(async () => {
    lab = await createLab(['target', 'scanner', 'second']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-life-'));
    await writeFile(join(dir, 'ignore'), '');
  });
  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("runs Debian's own portsentry.conf unchanged and reports a connect scan", async () => {
    const debian = await unpackDebianPortsentry(dir);
    // The package's /etc/portsentry at its own path, and empty /var/lib and /run: the daemon
    // writes its history, store and sockets where the config and defaults say, none of them the machine's.
    const mounts = ['--bind', debian.etcDir, '/etc/portsentry', '--tmpfs', '/var/lib', '--tmpfs', '/run'];
    const check = await lab.exec(lab.hosts.target, withPrivateMounts(mounts, [process.execPath, DAEMON_SCRIPT, '--check-config', '-c', DEBIAN_CONF]), { allowFailure: true });
    assert.equal(check.code, 0, check.stderr);
    const daemon = startDaemon(lab, lab.hosts.target, ['-c', DEBIAN_CONF, '-tcp', '-udp'], { privateMounts: mounts });
    try {
      await daemon.waitFor('PortSentry is now active and listening');
      await daemon.waitFor('Going into listen mode on TCP port: 31337');
      await tcpReachable(lab, lab.hosts.scanner, lab.hosts.target.v4, 1524);
      await daemon.waitFor(`attackalert: Connect from host: ${lab.hosts.scanner.v4}/${lab.hosts.scanner.v4} to TCP port: 1524`);
      // Debian ships BLOCK_TCP="0": report only, exactly like the original.
      await daemon.waitFor('attackalert: Ignoring TCP response per configuration file setting.');
    } finally {
      assert.equal((await daemon.stop()).code, 0, daemon.lines.join('\n'));
    }
  });

  it('reports a tripwire port another program holds, keeps going, leaves it to that program, and takes it when asked again once it is free', async () => {
    const conf = join(dir, 'busy.conf');
    await writeFile(conf, base([]));
    const { target, scanner } = lab.hosts;
    const squatter = lab.spawn(target, ['socat', 'TCP4-LISTEN:79,reuseaddr', 'OPEN:/dev/null,rdonly'], { stdio: 'ignore' });
    const squatterGone = new Promise<void>((resolve) => squatter.once('exit', () => resolve()));
    await until('the squatter holds port 79', async () => (await lab.exec(target, ['ss', '-Hltn', 'sport = :79'])).stdout.trim() !== '');
    const daemon = startDaemon(lab, target, ['-c', conf, '-tcp']);
    try {
      await daemon.waitFor('PortSentry is now active and listening');
      await daemon.waitFor(/could not bind TCP socket: 79\. Attempting to continue \(port 79 is in use by another program and is not a tripwire\)/);
      const announced = () => daemon.lines.filter((l) => /Going into listen mode on TCP port: 79$/.test(l)).length;
      const before = announced(); // the start-up announcement
      squatter.kill();
      await squatterGone;
      // Free now: the next reload asks again, as a start would (no timer takes it behind anyone's back).
      daemon.child.kill('SIGHUP');
      await until(
        'port 79 is taken at the reload',
        () => announced() > before,
        60_000,
        () => daemon.lines.join('\n'),
      );
      await tcpReachable(lab, scanner, target.v4, 79);
      await daemon.waitFor(`attackalert: Connect from host: ${scanner.v4}/${scanner.v4} to TCP port: 79`);
    } finally {
      squatter.kill();
      assert.equal((await daemon.stop()).code, 0);
      await lab.exec(target, [process.execPath, DAEMON_SCRIPT, '-c', conf, '--remove-firewall']);
    }
  });

  it('refuses malformed configs at start with the file and line, exit status 2, nothing started', async () => {
    const cases: Array<[string, RegExp]> = [
      ['TCP_PORTS="1,2,x"\n', /:1: TCP_PORTS must be a comma-separated list of ports; "x" is not a port/],
      ['# ok\nSCAN_TRIGGER="many"\n', /:2: SCAN_TRIGGER/],
      ['TCP_PORTS="1"\nNO_SUCH_KEY="1"\n', /:2: unknown key NO_SUCH_KEY/],
      ['TCP_PORTS="1"\nTCP_PORTS="2"\n', /:2: .*TCP_PORTS/],
      ['TCP_PORTS=1\n', /:1: /],
      ['TCP_PORTS="1"\nKILL_ROUTE="/sbin/iptables -I INPUT -s $TARGET$ -j DROP; reboot"\n', /:2: KILL_ROUTE/],
      ['TCP_PORTS="1"\nBLOCK_TCP="3"\n', /:2: BLOCK_TCP/],
    ];
    for (const [text, expected] of cases) {
      const file = join(dir, 'bad.conf');
      await writeFile(file, text);
      const result = await daemonExit(['-c', file, '-tcp']);
      assert.equal(result.code, 2, `${text}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^portsentryd: ${file.replace(/[.]/g, '\\.')}${expected.source}`, 'm'), text);
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one clear line');
    }
    const missing = await daemonExit(['-c', join(dir, 'missing.conf'), '-tcp']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing\.conf.*(no such file|does not exist|cannot read)/i);
    const badIgnore = join(dir, 'bad-ignore.conf');
    await writeFile(join(dir, 'ignore.bad'), '198.18.0.1\n10.0.0.0/33\n');
    await writeFile(badIgnore, base([]).replace(join(dir, 'ignore'), join(dir, 'ignore.bad')));
    const ignored = await daemonExit(['-c', badIgnore, '-tcp']);
    assert.equal(ignored.code, 2);
    assert.match(ignored.stderr, /ignore\.bad:2: .*prefix/);
    const usage = await daemonExit(['-xyz']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: portsentryd/);
  });

  it('SIGHUP applies a good new config and keeps the old one running on a bad one; SCAN_TRIGGER counts', async () => {
    const conf = join(dir, 'reload.conf');
    await writeFile(conf, base(['SCAN_TRIGGER="0"']));
    const { target, scanner, second } = lab.hosts;
    const daemon = startDaemon(lab, target, ['-c', conf, '-tcp']);
    let helper: HelperClient | undefined;
    try {
      await daemon.waitFor('Control socket listening on');
      helper = await HelperClient.connect(join(dir, 'run', 'helper.sock'));
      // A bad edit: the daemon says why and keeps going with the old settings.
      await writeFile(conf, `${base(['SCAN_TRIGGER="0"'])}BLOCK_TCP="maybe"\n`);
      daemon.child.kill('SIGHUP');
      await daemon.waitFor(/new configuration rejected, still running the previous one: .*reload\.conf:\d+: BLOCK_TCP/);
      // A good edit: SCAN_TRIGGER=2 means a host may touch one tripwire without being blocked.
      await writeFile(conf, base(['SCAN_TRIGGER="2"']));
      daemon.child.kill('SIGHUP');
      await daemon.waitFor(`Configuration reloaded from ${conf}`);
      await tcpReachable(lab, scanner, target.v4, 11);
      const counted = async () => (await helper!.call('events.list', { host: scanner.v4, limit: 10 })).events.some((e) => e.type === 'scan' && e.port === 11 && e.action === 'counted');
      await until('the first touch is counted', counted);
      assert.equal(await tcpReachable(lab, scanner, target.v4, 143), true, 'one touch is not enough');
      const set = async () => (await lab.exec(target, ['nft', 'list', 'set', 'inet', 'pslife', 'blocked4'])).stdout;
      await until('the second touch blocks', async () => (await set()).includes(scanner.v4));
      assert.ok(!(await set()).includes(second.v4));
      assert.equal(await tcpReachable(lab, second, target.v4, 143), true);
      assert.match(await readFile(join(dir, 'history'), 'utf8'), new RegExp(`Host: ${scanner.v4}/${scanner.v4} Port: 143 TCP Blocked`));
    } finally {
      helper?.close();
      assert.equal((await daemon.stop()).code, 0);
      await lab.exec(target, [process.execPath, DAEMON_SCRIPT, '-c', conf, '--remove-firewall']);
    }
  });
});
