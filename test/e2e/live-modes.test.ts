// Detection modes from the MODES setting, changed live through the operator socket by a real
// non-root member of the control group: the helper runs without mode flags (as the packaged
// services do), a switch from "tcp udp" to "atcp udp" takes effect without a restart (a real
// nmap SYN scan of a port only the advanced mode watches is caught and blocked), the UDP
// tripwire sockets that did not change are kept (the very same sockets, no gap), so are those
// of ports still watched when the port list changes, a bad MODES is
// refused in words with nothing changed, and mode flags, when given, still win.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { eventsOf, portsentryctl } from '../support/portsentryctl.js';

const run = promisify(execFile);
const TABLE = `psmodes${process.pid}`.slice(0, 30);
const GROUP = `psmg${process.pid}`;
const MEMBER = `psmm${process.pid}`;
/** Not a tripwire: only the advanced TCP mode (every unused port below ADVANCED_PORTS_TCP) watches it. */
const ADVANCED_ONLY_PORT = 4444;

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('detection modes from MODES, changed live through the operator socket', { timeout: 300_000 }, () => {
  let lab: Lab<'target' | 'scanner' | 'scanner2'>;
  let dir: string;
  let conf: string;
  let socketPath: string;
  let operatorFile: string;
  let daemon: DaemonProcess;

  // A real operator: a non-root member of the control group, on the operator socket.
  const ctl = (args: readonly string[]) => portsentryctl(socketPath, MEMBER)(args);
  const status = async (): Promise<{ modes: string[]; modesFrom?: string; role: string }> => {
    const result = await ctl(['--json', 'status']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { modes: string[]; modesFrom?: string; role: string };
  };
  const eventsFrom = (host: string) => eventsOf(ctl, host);
  /** The inode of each socket bound to a port on the target ("udp 7" -> inode), from ss. */
  const socketInodes = async (protocol: 'tcp' | 'udp', port: number): Promise<string[]> => {
    const out = (await lab.exec(lab.hosts.target, ['ss', '-Hlne', protocol === 'tcp' ? '-t' : '-u', 'sport', `= :${port}`])).stdout;
    return [...out.matchAll(/ino:(\d+)/g)].map((m) => m[1]!).sort();
  };

  before(async () => {
    await run('groupadd', ['-f', GROUP]);
    await run('useradd', ['-M', '-N', '-G', GROUP, MEMBER]).catch(() => undefined);
    lab = await createLab(['target', 'scanner', 'scanner2']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-modes-'));
    await chmod(dir, 0o755);
    conf = join(dir, 'portsentry.conf');
    socketPath = join(dir, 'run', 'helper.sock');
    operatorFile = join(dir, 'operator-settings.conf');
    await writeFile(join(dir, 'ignore'), '# live modes test\n');
    await writeFile(
      conf,
      helperConfigText(
        dir,
        { TCP_PORTS: '1,11,15,79', UDP_PORTS: '1,7,9', ADVANCED_PORTS_TCP: '5000', NFT_TABLE: TABLE, RPC_SOCKET: socketPath, RPC_GROUP: GROUP },
        '# live modes test: no MODES here, so its default (tcp udp) applies',
      ),
    );
    // No mode flag: MODES decides, as under the packaged services.
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf]);
    await daemon.waitFor('Control socket listening on');
  });

  after(async () => {
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    await run('userdel', [MEMBER]).catch(() => undefined);
    await run('groupdel', [GROUP]).catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('without mode flags runs what MODES says (its default: tcp udp), and says where the modes came from', async () => {
    const now = await status();
    assert.equal(now.role, 'operator');
    assert.deepEqual([now.modes, now.modesFrom], [['tcp', 'udp'], 'config']);
    assert.match((await ctl(['status'])).stdout, /modes: -tcp -udp \(from MODES\)/);
  });

  it('in the tcp mode a SYN to a non-tripwire port is not a scan (the advanced mode is what would catch it)', async () => {
    const { target, scanner } = lab.hosts;
    await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', String(ADVANCED_ONLY_PORT), target.v4]);
    // Then a tripwire: once that is recorded, the earlier probe has had every chance to be.
    await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '11', target.v4]);
    await until('the tripwire probe is recorded', async () => (await eventsFrom(scanner.v4)).some((e) => e.type === 'scan' && e.port === 11));
    assert.deepEqual(
      (await eventsFrom(scanner.v4)).filter((e) => e.port === ADVANCED_ONLY_PORT),
      [],
    );
  });

  it('a bad MODES is refused in words and nothing changes: file, modes and sockets', async () => {
    const fileBefore = await readFile(operatorFile, 'utf8').catch(() => '<absent>');
    const udpBefore = await socketInodes('udp', 7);
    for (const [bad, why] of [
      [['MODES=tcp stcp'], /MODES may hold one TCP mode, not both tcp and stcp/],
      [['MODES=audp udp'], /MODES may hold one UDP mode, not both audp and udp/],
      [['MODES=bogus'], /"bogus" is not a mode/],
      [['MODES='], /at least one mode/],
      [['MODES=tcp;reboot'], /is not a mode|invalid params/],
      // Valid alone, but the stealth UDP mode needs tripwire ports and this change removes them.
      [['MODES=atcp sudp', 'UDP_PORTS='], /UDP_PORTS lists no ports, but mode -sudp needs them/],
    ] as const) {
      const result = await ctl(['config', 'set', ...bad]);
      assert.equal(result.code, 1, `${bad.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, why, bad.join(' '));
    }
    assert.equal(await readFile(operatorFile, 'utf8').catch(() => '<absent>'), fileBefore, 'the operator settings file is unchanged');
    assert.deepEqual((await status()).modes, ['tcp', 'udp']);
    assert.deepEqual(await socketInodes('udp', 7), udpBefore, 'the UDP tripwire sockets are the same');
  });

  it('a changed tripwire port list keeps the sockets of the ports still watched: added ports bound, removed ones closed', async () => {
    const port11 = await socketInodes('tcp', 11);
    assert.equal(port11.length, 2, 'TCP port 11 is a tripwire (IPv4 and IPv6)');
    const added = await ctl(['config', 'set', 'TCP_PORTS=1,11,15,79,81']);
    assert.equal(added.code, 0, added.stderr);
    await until('port 81 is a tripwire', async () => (await socketInodes('tcp', 81)).length === 2);
    assert.deepEqual(await socketInodes('tcp', 11), port11, 'the same sockets on port 11');
    const removed = await ctl(['config', 'set', 'TCP_PORTS=1,11,15,81']);
    assert.equal(removed.code, 0, removed.stderr);
    await until('port 79 is closed', async () => (await socketInodes('tcp', 79)).length === 0);
    assert.deepEqual(await socketInodes('tcp', 11), port11, 'still the same sockets on port 11');
    assert.equal((await socketInodes('tcp', 81)).length, 2);
  });

  it('switching to "atcp udp" through the operator socket takes effect live: a SYN scan of a port only the advanced mode watches is caught and blocked', async () => {
    const { target, scanner2 } = lab.hosts;
    const udpBefore = await socketInodes('udp', 7);
    assert.equal(udpBefore.length, 2, 'UDP port 7 is a tripwire (IPv4 and IPv6)');
    assert.equal((await socketInodes('tcp', 11)).length, 2, 'TCP port 11 is a tripwire');
    const set = await ctl(['config', 'set', 'MODES=atcp udp']);
    assert.equal(set.code, 0, set.stderr);
    await until('the new modes are in force', async () => JSON.stringify((await status()).modes) === '["atcp","udp"]');
    assert.match(await readFile(operatorFile, 'utf8'), /^MODES="atcp udp"$/m, 'kept in the operator settings file');
    assert.doesNotMatch(await readFile(conf, 'utf8'), /^MODES=/m, "root's file is untouched");
    // The UDP mode did not change: its sockets were never closed (the same inodes), so no gap.
    assert.deepEqual(await socketInodes('udp', 7), udpBefore, 'the UDP tripwire sockets were kept');
    // The classic TCP tripwires are gone: the advanced mode watches without binding.
    await until('the TCP tripwire sockets are closed', async () => (await socketInodes('tcp', 11)).length === 0);

    await lab.exec(scanner2, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', String(ADVANCED_ONLY_PORT), target.v4]);
    await until('the advanced mode records the probe', async () => (await eventsFrom(scanner2.v4)).some((e) => e.type === 'scan' && e.port === ADVANCED_ONLY_PORT && e.mode === 'atcp'));
    await until('the scanner is blocked in nftables', async () => (await blockedSetsText(lab, target, TABLE)).includes(scanner2.v4));
    const config = JSON.parse((await ctl(['--json', 'config', 'get'])).stdout) as { values: Record<string, string>; sources: Record<string, string> };
    assert.equal(config.values['MODES'], 'atcp udp');
    assert.equal(config.sources['MODES'], operatorFile);
  });

  it('mode flags on the command line still win over MODES, and config get and status say so', async () => {
    await daemon.stop();
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, '-tcp']);
    await daemon.waitFor('Control socket listening on');
    const now = await status();
    assert.deepEqual([now.modes, now.modesFrom], [['tcp'], 'command-line']);
    assert.match((await ctl(['status'])).stdout, /modes: -tcp \(from the command line\)/);
    const config = JSON.parse((await ctl(['--json', 'config', 'get'])).stdout) as { values: Record<string, string>; sources: Record<string, string> };
    assert.equal(config.values['MODES'], 'atcp udp', 'the setting is still shown as written');
    assert.match(config.sources['MODES'] ?? '', /^the command line \(-tcp\), which wins over MODES/);
  });
});
