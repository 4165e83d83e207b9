// The server .deb under a real systemd: a clean Debian 12 tree with systemd as PID 1, booted
// by systemd-nspawn inside a lab namespace, gets the package through dpkg (so postinst's
// deb-systemd-invoke really starts the unit). Then: the unit runs with its sandbox in force
// (capability bounding set, read-only /usr), nft and tcpdump work inside it (a half-open
// nmap -sS, which only packet capture sees, blocks the scanner in nftables), and
// `systemctl stop` leaves the blocks but no kernel trap armed: a new sender is not blocked.
// Then the desktop package's hooks (electron-builder's own after-install/after-remove with
// ours appended) run in the same booted system against a desktop-like /opt tree, and last the
// helper installer the app runs (build/install-helper.sh, with the argv the app hands to
// sudo-prompt) from a root-owned copy of the app under /opt, and the app's "start" fix.
// Needs root, systemd-nspawn (systemd-container), nmap, socat; builds the .deb (~minutes)
// and, once, a bootable tree under /var/cache/portsentry-test-root.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fixPlan, type SetupFacts } from '../../main/helper-setup.js';
import { privilegedArgv } from '../../main/install-helper.js';
import { startTcpService } from '../support/helper-config.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { copyOfBootableRootfs, ensureCachedBootableRootfs } from './debian-rootfs.js';
import { bootContainer, type BootedContainer } from './nspawn-container.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SERVICE_PORT = 8080;
const UDP_TRIPWIRE = 31337;

/** The unit's CapabilityBoundingSet as a CapBnd mask (linux/capability.h numbers). */
const UNIT_CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FOWNER: 3,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
};

describe('the server .deb under a real systemd (systemd-nspawn --boot)', { timeout: 1_800_000 }, () => {
  let out: string;
  let deb: string;
  let tree: { dir: string; destroy(): Promise<void> } | undefined;
  let lab: Lab<'server' | 'scanner' | 'late'>;
  let container: BootedContainer | undefined;
  let service: ReturnType<Lab['spawn']> | undefined;

  const journal = async () => (await container!.exec(['journalctl', '-u', 'portsentryd', '--no-pager', '-o', 'cat'], { allowFailure: true })).stdout;
  const blocked4 = async () => (await lab.exec(lab.hosts.server, ['nft', 'list', 'set', 'inet', 'portsentry', 'blocked4'], { allowFailure: true })).stdout;
  /** Process names in the container (minbase has no procps, so no pgrep). */
  const processNames = async () => (await container!.exec(['sh', '-c', 'cat /proc/[0-9]*/comm 2>/dev/null'], { allowFailure: true })).stdout.split('\n');
  const trapRules = async () =>
    (await lab.exec(lab.hosts.server, ['nft', 'list', 'chain', 'inet', 'portsentry', 'trap'], { allowFailure: true })).stdout.split('\n').filter((line) => /@blocked[46]/.test(line));

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'portsentry-boot-deb-'));
    const [{ stdout }] = await Promise.all([
      run('bash', [join(REPO, 'scripts/build-server-deb.sh')], { cwd: REPO, env: { ...process.env, PORTSENTRY_DEB_OUT: out }, timeout: 900_000, maxBuffer: 16 * 1024 * 1024 }),
      ensureCachedBootableRootfs((line) => console.error(`# ${line}`)),
    ]);
    deb = String(stdout).trim().split('\n').at(-1) ?? '';
    tree = await copyOfBootableRootfs();
    await copyFile(deb, join(tree.dir, 'root/server.deb'));
    await run('chroot', [tree.dir, 'useradd', '--create-home', 'alice'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    lab = await createLab(['server', 'scanner', 'late']);
    service = await startTcpService(lab, lab.hosts.server, SERVICE_PORT);
    container = await bootContainer(tree.dir, { name: `psboot${process.pid}`, netnsPath: `/run/netns/${lab.hosts.server.netns}` });
  });

  after(async () => {
    await container?.stop();
    service?.kill();
    await lab?.exec(lab.hosts.server, ['nft', 'delete', 'table', 'inet', 'portsentry'], { allowFailure: true });
    await lab?.destroy();
    await tree?.destroy();
    if (out !== undefined) await rm(out, { recursive: true, force: true });
  });

  it('dpkg -i installs it and postinst has systemd start the unit, sandboxed as written', async () => {
    const c = container!;
    await c.exec(['dpkg', '-i', '/root/server.deb'], { env: { SUDO_USER: 'alice', DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 300_000 });
    assert.equal((await c.exec(['systemctl', 'is-enabled', 'portsentryd'])).stdout.trim(), 'enabled');
    await until(
      'the unit is active and its control socket listens',
      async () =>
        (await c.exec(['systemctl', 'is-active', 'portsentryd'], { allowFailure: true })).stdout.trim() === 'active' &&
        /Control socket listening on \/run\/portsentry-desktop\/helper\.sock/.test(await journal()),
    );
    assert.match((await c.exec(['id', '-nG', 'alice'])).stdout, /\bportsentry\b/, 'the installing user joined the group');

    const pid = (await c.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'portsentryd'])).stdout.trim();
    const status = (await c.exec(['cat', `/proc/${pid}/status`])).stdout;
    const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? 'ffffffffffffffff'}`);
    const expected = Object.values(UNIT_CAPABILITIES).reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);
    assert.equal(bounding.toString(16), expected.toString(16), "the capability bounding set is exactly the unit's");
    assert.match(status, /^NoNewPrivs:\s*1$/m);
    // ProtectSystem=strict: even root cannot write /usr from inside the service.
    const write = await c.exec(['nsenter', '-t', pid, '-m', '--', '/bin/sh', '-c', 'touch /usr/portsentry-probe 2>&1; echo $?'], { allowFailure: true });
    assert.match(write.stdout, /Read-only file system/, write.stdout + write.stderr);
    // portsentryctl talks to it over the socket, as root.
    assert.match((await c.exec(['portsentryctl', 'status'])).stdout, /active|paused|running|modes/i);
  });

  it('inside the sandbox nft and tcpdump work: a half-open nmap scan is seen, and blocks the scanner', async () => {
    const c = container!;
    const { server, scanner } = lab.hosts;
    assert.ok((await trapRules()).length > 0, 'nft works in the sandbox: the kernel trap for the UDP tripwires is armed');
    // The stealth mode needs tcpdump; added the documented way (systemctl edit: a drop-in
    // overriding ExecStart), so the packaged unit's sandbox is what runs it.
    // The container's root is tree.dir itself: the drop-in is written there from outside.
    await mkdir(join(tree!.dir, 'etc/systemd/system/portsentryd.service.d'), { recursive: true });
    await writeFile(
      join(tree!.dir, 'etc/systemd/system/portsentryd.service.d/modes.conf'),
      '[Service]\nExecStart=\nExecStart=/usr/lib/portsentry-desktop/node/bin/node --max-semi-space-size=2 /usr/lib/portsentry-desktop/dist/privileged-helper/bin/portsentryd.js -c /etc/portsentry-desktop/portsentry.conf -tcp -udp -stcp\n',
    );
    await c.exec(['systemctl', 'daemon-reload']);
    await c.exec(['systemctl', 'restart', 'portsentryd']);
    await until('the restarted unit listens again', async () => ((await journal()).match(/Control socket listening on/g) ?? []).length >= 2);
    const log = await journal();
    assert.doesNotMatch(log, /packet capture is unavailable/, log.slice(-2000));
    await until('tcpdump runs under the unit', async () => (await processNames()).includes('tcpdump'));
    assert.equal(await tcpReachable(lab, scanner, server.v4, SERVICE_PORT), true, 'the service is reachable before the scan');
    await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79,111', server.v4]);
    await until('the scanner is in blocked4', async () => (await blocked4()).includes(scanner.v4));
    assert.equal(await tcpReachable(lab, scanner, server.v4, SERVICE_PORT), false, 'the scanner is blackholed');
    // The kernel trap blocks the first SYN by itself; that the daemon names the half-open scan
    // at all is tcpdump's doing (a -sS never reaches accept()).
    const escaped = scanner.v4.replace(/\./g, '\\.');
    await until('the journal names the SYN scan', async () => new RegExp(`attackalert: TCP SYN/Normal scan from host: [^ ]*${escaped} to TCP port`).test(await journal()));
  });

  it('systemctl stop leaves the blocks in place but no trap armed: a new sender is not blocked', async () => {
    const { server, scanner, late } = lab.hosts;
    await container!.exec(['systemctl', 'stop', 'portsentryd']);
    assert.equal((await container!.exec(['systemctl', 'is-active', 'portsentryd'], { allowFailure: true })).stdout.trim(), 'inactive');
    assert.ok(!(await processNames()).includes('tcpdump'), 'no tcpdump left behind');
    assert.ok(!(await processNames()).includes('node'), 'no helper left behind');
    assert.deepEqual(await trapRules(), [], `the trap chain holds no blocking rule; the unit's journal:\n${(await journal()).slice(-4000)}`);
    assert.ok((await blocked4()).includes(scanner.v4), 'blocks stay after a stop (classic behaviour)');
    for (let i = 0; i < 3; i++) await lab.exec(late, ['socat', '-u', 'OPEN:/dev/null', `UDP4-SENDTO:${server.v4}:${UDP_TRIPWIRE}`], { allowFailure: true });
    // A barrier, not a sleep: the same sender's later connection reaches the server after the
    // datagrams, so a trap that had fired on them would have blocked it.
    assert.equal(await tcpReachable(lab, late, server.v4, SERVICE_PORT), true);
    assert.ok(!(await blocked4()).includes(late.v4), 'a datagram to a tripwire after the stop blocks nobody');
  });
  it('a helper killed with SIGKILL cannot disarm its trap; the unit does it after the stop (ExecStopPost), blocks kept', async () => {
    const c = container!;
    const { scanner } = lab.hosts;
    // No restart, so what is looked at is what the stop left, not the next start's trap.
    await writeFile(join(tree!.dir, 'etc/systemd/system/portsentryd.service.d/no-restart.conf'), '[Service]\nRestart=no\n');
    await c.exec(['systemctl', 'daemon-reload']);
    await c.exec(['systemctl', 'start', 'portsentryd']);
    await until(
      'the unit is active with its trap armed',
      async () => (await c.exec(['systemctl', 'is-active', 'portsentryd'], { allowFailure: true })).stdout.trim() === 'active' && (await trapRules()).length > 0,
    );
    const pid = (await c.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'portsentryd'])).stdout.trim();
    assert.match(pid, /^[1-9]\d*$/);
    // minbase has no kill(1); the shell's builtin.
    await c.exec(['sh', '-c', 'kill -KILL "$1"', 'sh', pid]);
    // "failed" comes after ExecStopPost has run ("deactivating" while it runs).
    await until('the unit is failed', async () => (await c.exec(['systemctl', 'is-active', 'portsentryd'], { allowFailure: true })).stdout.trim() === 'failed');
    assert.deepEqual(await trapRules(), [], `no trap rule is left; the unit's journal:\n${(await journal()).slice(-3000)}`);
    assert.match(await journal(), /WARNING: the helper left its kernel trap in table inet portsentry armed \(it did not stop cleanly\); disarmed it, blocks kept/);
    assert.ok((await blocked4()).includes(scanner.v4), 'the blocks stay');
    await rm(join(tree!.dir, 'etc/systemd/system/portsentryd.service.d/no-restart.conf'));
    await c.exec(['systemctl', 'daemon-reload']);
    await c.exec(['systemctl', 'reset-failed', 'portsentryd'], { allowFailure: true });
  });

  it("the desktop package's composed hooks (electron-builder's own, then ours) wire the service up and down", async () => {
    const c = container!;
    const root = tree!.dir;
    // Room for the desktop package: the server package goes (purge: config and state too).
    await c.exec(['dpkg', '--purge', 'portsentry-desktop-server'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    await rm(join(root, 'etc/systemd/system/portsentryd.service.d'), { recursive: true, force: true });
    await c.exec(['systemctl', 'daemon-reload']);
    // What the desktop .deb puts under /opt (electron-builder cannot build it here: no Electron
    // binary): the helper as resources/helper, the app executable and chrome-sandbox.
    const app = join(root, 'opt', 'PortSentry Desktop');
    const unpacked = join(out, 'server-tree');
    await run('dpkg-deb', ['-x', deb, unpacked]);
    await mkdir(join(app, 'resources'), { recursive: true });
    await run('cp', ['-a', join(unpacked, 'usr/lib/portsentry-desktop'), join(app, 'resources/helper')]);
    await run('cp', ['-a', join(REPO, 'build/systemd'), join(app, 'resources/helper/systemd')]);
    await writeFile(join(app, 'portsentry-desktop'), '#!/bin/sh\necho portsentry-desktop\n', { mode: 0o755 });
    await writeFile(join(app, 'chrome-sandbox'), '', { mode: 0o700 });
    await writeFile(join(app, 'resources/apparmor-profile'), '# profile\n');
    // The hooks as electron-builder writes them: composed, then its macros filled in
    // (app-builder-lib FpmTarget writeConfigFile; bash-single-quote-escaped values).
    const { composeHook } = (await import(join(REPO, 'scripts/compose-linux-hooks.mjs'))) as { composeHook(name: string): string };
    const macros: Record<string, string> = { executable: 'portsentry-desktop', sanitizedProductName: 'PortSentry Desktop', productFilename: 'PortSentry Desktop' };
    for (const name of ['after-install', 'after-remove']) {
      const text = composeHook(name).replace(/\$\{([a-zA-Z]+)\}/g, (_m, key: string) => {
        if (!(key in macros)) throw new Error(`electron-builder would refuse macro ${key}`);
        return macros[key]!;
      });
      await writeFile(join(root, 'root', `${name}.sh`), text, { mode: 0o755 });
    }

    await c.exec(['bash', '/root/after-install.sh'], { timeoutMs: 180_000 });
    // electron-builder's part ran: the /usr/bin link (through update-alternatives) and chrome-sandbox's mode.
    assert.equal((await c.exec(['readlink', '-f', '/usr/bin/portsentry-desktop'])).stdout.trim(), '/opt/PortSentry Desktop/portsentry-desktop');
    const sandboxMode = (await c.exec(['stat', '-c', '%a', '/opt/PortSentry Desktop/chrome-sandbox'])).stdout.trim();
    assert.ok(['4755', '755'].includes(sandboxMode), `chrome-sandbox mode ${sandboxMode}`);
    // Ours ran: helper link, config generated, group, unit enabled and started by the real systemd.
    assert.equal((await c.exec(['readlink', '/usr/lib/portsentry-desktop'])).stdout.trim(), '/opt/PortSentry Desktop/resources/helper');
    assert.match((await c.exec(['cat', '/etc/portsentry-desktop/portsentry.conf'])).stdout, /^TCP_PORTS=/m);
    assert.match((await c.exec(['getent', 'group', 'portsentry'])).stdout, /^portsentry:/);
    assert.equal((await c.exec(['systemctl', 'is-enabled', 'portsentryd'])).stdout.trim(), 'enabled');
    await until(
      "the desktop package's unit is active",
      async () =>
        (await c.exec(['systemctl', 'is-active', 'portsentryd'], { allowFailure: true })).stdout.trim() === 'active' && ((await journal()).match(/Control socket listening on/g) ?? []).length >= 3,
    );

    await c.exec(['bash', '/root/after-remove.sh'], { timeoutMs: 180_000 });
    assert.equal((await c.exec(['test', '-e', '/usr/bin/portsentry-desktop'], { allowFailure: true })).code, 1, 'the /usr/bin link is gone');
    assert.equal((await c.exec(['test', '-e', '/usr/lib/portsentry-desktop'], { allowFailure: true })).code, 1, 'the helper link is gone');
    assert.notEqual((await c.exec(['systemctl', 'is-active', 'portsentryd'], { allowFailure: true })).stdout.trim(), 'active');
    assert.equal((await c.exec(['test', '-e', '/etc/systemd/system/portsentryd.service'], { allowFailure: true })).code, 1, 'the unit is gone');
  });

  it('the helper installer the app runs, from a root-owned copy of the app, has systemd start the unit; the app\'s "start" fix starts it again', async () => {
    const c = container!;
    const root = tree!.dir;
    // The app unpacked by root under /opt (a tarball in a user's home is refused: install-helper-script.test.ts):
    // resources/install-helper.sh beside resources/helper, root's alone.
    const resources = '/opt/portsentry-unpacked/resources';
    await mkdir(join(root, resources), { recursive: true });
    await run('cp', ['-a', join(out, 'server-tree/usr/lib/portsentry-desktop'), join(root, resources, 'helper')]);
    await run('cp', ['-a', join(REPO, 'build/systemd'), join(root, resources, 'helper/systemd')]);
    await copyFile(join(REPO, 'build/install-helper.sh'), join(root, resources, 'install-helper.sh'));
    await c.exec(['chown', '-R', 'root:root', '/opt/portsentry-unpacked']);
    await c.exec(['chmod', '-R', 'go-w', '/opt/portsentry-unpacked']);
    const unreachable = { kind: 'unreachable', reason: 'not-running', message: 'no socket' } as const;
    const facts: SetupFacts = { helper: unreachable, installed: false, installer: `${resources}/install-helper.sh`, user: 'alice', group: null, processGroups: [], sessionId: null };
    const install = fixPlan('install', facts);
    assert.equal(install.kind, 'elevated');
    const { stdout } = await c.exec([...privilegedArgv((install as Extract<typeof install, { kind: 'elevated' }>).plan)], { timeoutMs: 180_000 });
    assert.match(stdout, /\/usr\/lib\/portsentry-desktop -> \/opt\/portsentry-unpacked\/resources\/helper/);
    assert.match(stdout, /portsentryd is enabled and started/);
    assert.equal((await c.exec(['systemctl', 'is-enabled', 'portsentryd'])).stdout.trim(), 'enabled');
    const listening = async (count: number) =>
      (await c.exec(['systemctl', 'is-active', 'portsentryd'], { allowFailure: true })).stdout.trim() === 'active' && ((await journal()).match(/Control socket listening on/g) ?? []).length >= count;
    await until("the installer's unit is active under systemd", () => listening(4));

    await c.exec(['systemctl', 'stop', 'portsentryd']);
    const start = fixPlan('start', { ...facts, installed: true });
    assert.equal(start.kind, 'elevated');
    await c.exec([...privilegedArgv((start as Extract<typeof start, { kind: 'elevated' }>).plan)]);
    await until('the "start" fix started it', () => listening(5));
  });
});
