// The headless server package end to end: build it with scripts/build-server-deb.sh, check
// what is inside, verify the systemd unit with systemd-analyze against the packaged tree,
// then install it with dpkg into a clean Debian 12 root and check that the installed
// daemon works there: config check, and a scan from another namespace right after install.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EMBEDDED_CONFIG_TEXT } from '../../privileged-helper/config/default-config.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { startTcpService } from '../support/helper-config.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { cachedRootfsReady, copyOfCachedRootfs, ensureCachedRootfs, ROOTFS_CACHE, type Rootfs } from './debian-rootfs.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PREFIX = '/usr/lib/portsentry-desktop';
const UNIT = '/lib/systemd/system/portsentryd.service';
const SERVICE_PORT = 8080;

async function version(): Promise<string> {
  return (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('portsentry-desktop-server .deb', { timeout: 1_800_000 }, () => {
  let out: string;
  let deb: string;
  let extracted: string;

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'portsentry-deb-'));
    const { stdout } = await run('bash', [join(REPO, 'scripts/build-server-deb.sh')], {
      cwd: REPO,
      env: { ...process.env, PORTSENTRY_DEB_OUT: out },
      timeout: 600_000,
    });
    deb = String(stdout).trim().split('\n').at(-1) ?? '';
    extracted = join(out, 'extracted');
    await run('dpkg-deb', ['-x', deb, extracted]);
  });

  after(async () => {
    if (out !== undefined) await rm(out, { recursive: true, force: true });
  });

  it('is named portsentry-desktop-server_<version>_amd64.deb and says what it needs', async () => {
    assert.equal(deb, join(out, `portsentry-desktop-server_${await version()}_amd64.deb`));
    const control = String((await run('dpkg-deb', ['-f', deb])).stdout);
    assert.match(control, /^Package: portsentry-desktop-server$/m);
    assert.match(control, /^Depends: .*\bnftables\b.*\btcpdump\b.*\butil-linux\b/m);
    await run('dpkg-deb', ['-e', deb, join(out, 'control')]);
    const conffiles = await readFile(join(out, 'control/conffiles'), 'utf8');
    assert.deepEqual(conffiles.trim().split('\n'), ['/etc/portsentry-desktop/portsentry.conf', '/etc/portsentry-desktop/portsentry.ignore']);
  });

  it('holds the helper, shared code, zod and Node 24, and nothing of Electron or the tests', async () => {
    const listing = String((await run('dpkg-deb', ['-c', deb], { maxBuffer: 16 * 1024 * 1024 })).stdout);
    const paths = listing
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/\s+/).slice(5).join(' ').replace(/^\./, ''));
    for (const expected of [
      `${PREFIX}/node/bin/node`,
      `${PREFIX}/package.json`,
      `${PREFIX}/dist/privileged-helper/bin/portsentryd.js`,
      `${PREFIX}/dist/privileged-helper/config/default-config.js`,
      `${PREFIX}/dist/shared/protocol/schemas.js`,
      `${PREFIX}/node_modules/zod/package.json`,
      `${PREFIX}/node_modules/prom-client/package.json`,
      '/usr/sbin/portsentryd',
      '/etc/portsentry-desktop/portsentry.conf',
      '/etc/portsentry-desktop/portsentry.ignore',
      UNIT,
      '/usr/share/doc/portsentry-desktop-server/copyright',
    ]) {
      assert.ok(paths.includes(expected), `${expected} is missing from the package`);
    }
    const modules = new Set(
      paths
        .filter((p) => p.startsWith(`${PREFIX}/node_modules/`))
        .map((p) => p.split('/')[5])
        .filter(Boolean),
    );
    // zod (the protocol) and prom-client (the metrics endpoint) with its own dependencies; nothing of Electron.
    assert.deepEqual([...modules].sort(), ['@opentelemetry', 'bintrees', 'prom-client', 'tdigest', 'zod'], 'only the runtime packages the helper imports');
    assert.deepEqual(
      paths.filter((p) => /electron/i.test(p)),
      [],
      'nothing of Electron',
    );
    const ours = paths.filter((p) => p.startsWith(`${PREFIX}/dist/`));
    assert.deepEqual(
      ours.filter((p) => /\/test\/|\.map$|\.ts$/.test(p)),
      [],
      'no tests, maps or sources of ours',
    );
    const node = await run(join(extracted, PREFIX, 'node/bin/node'), ['-p', 'process.versions.node']);
    assert.match(String(node.stdout), /^24\./);
    const pkg = JSON.parse(await readFile(join(extracted, PREFIX, 'package.json'), 'utf8')) as { type: string };
    assert.equal(pkg.type, 'module');
  });

  it('installs the embedded default config as the conffile, word for word', async () => {
    const conf = await readFile(join(extracted, 'etc/portsentry-desktop/portsentry.conf'), 'utf8');
    assert.ok(conf.endsWith(EMBEDDED_CONFIG_TEXT), 'the conffile is the embedded defaults plus a header');
    assert.match(conf.slice(0, conf.length - EMBEDDED_CONFIG_TEXT.length), /^(#[^\n]*\n)+$/, 'the header is only comments');
  });

  it('ships a unit that systemd-analyze verify accepts, against the packaged tree', async () => {
    try {
      await run('systemd-analyze', ['--version']);
    } catch {
      await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'systemd'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
    }
    const unit = await readFile(join(extracted, UNIT.slice(1)), 'utf8');
    assert.match(
      unit,
      new RegExp(`^ExecStart=${PREFIX}/node/bin/node --max-semi-space-size=2 ${PREFIX}/dist/privileged-helper/bin/portsentryd.js -c /etc/portsentry-desktop/portsentry.conf$`, 'm'),
      'no mode flags: MODES decides',
    );
    // verify checks that ExecStart's program exists: point it at the extracted package.
    const dir = join(out, 'unit');
    await run('mkdir', ['-p', dir]);
    const file = join(dir, 'portsentryd.service');
    await writeFile(file, unit.replaceAll(PREFIX, join(extracted, PREFIX)));
    const result = await run('systemd-analyze', ['verify', file], { cwd: dir }).catch((error: { stderr?: string; code?: number }) => ({
      stdout: '',
      stderr: `exit ${String(error.code)}: ${String(error.stderr)}`,
    }));
    assert.equal(String(result.stderr).trim(), '', 'systemd-analyze verify complains');
    // And a missing binary is reported, so the check above has teeth.
    await writeFile(file, unit);
    await assert.rejects(run('systemd-analyze', ['verify', file], { cwd: dir }), /is not executable/);
  });

  describe('installed into a clean Debian 12 root', () => {
    const skip =
      !cachedRootfsReady() && process.env.PORTSENTRY_SKIP_ROOTFS === '1' ? `PORTSENTRY_SKIP_ROOTFS=1 and no cached tree in ${ROOTFS_CACHE} (building it takes debootstrap ~1-2 min plus apt)` : false;
    let rootfs: Rootfs;
    let lab: Lab<'server' | 'scanner' | 'client'>;
    let daemon: DaemonProcess | undefined;
    let service: ReturnType<Lab['spawn']> | undefined;

    before(async () => {
      if (skip !== false) return;
      const took = await ensureCachedRootfs((line) => process.stderr.write(`# ${line}\n`));
      if (took > 0) process.stderr.write(`# built the Debian root in ${Math.round(took / 1000)} s\n`);
      rootfs = await copyOfCachedRootfs();
      await rootfs.chroot(['useradd', '--create-home', 'alice']);
      await copyFile(deb, join(rootfs.dir, 'tmp/server.deb'));
      // As "sudo dpkg -i" run by alice would: postinst adds $SUDO_USER to the group.
      await rootfs.chroot(['dpkg', '-i', '/tmp/server.deb'], { SUDO_USER: 'alice' });
    });

    after(async () => {
      service?.kill();
      await daemon?.stop('SIGKILL');
      await lab?.destroy();
      await rootfs?.destroy();
    });

    it('dpkg knows the package and its conffiles', { skip }, async () => {
      const status = (await rootfs.chroot(['dpkg-query', '-W', '-f=${Status} ${Version}', 'portsentry-desktop-server'])).stdout;
      assert.equal(status, `install ok installed ${await version()}`);
      const files = (await rootfs.chroot(['dpkg-query', '-L', 'portsentry-desktop-server'])).stdout;
      assert.match(files, /^\/usr\/sbin\/portsentryd$/m);
      assert.match(files, new RegExp(`^${UNIT}$`, 'm'));
    });

    it('created group portsentry with the installing user, and the state directory', { skip }, async () => {
      const group = (await rootfs.chroot(['getent', 'group', 'portsentry'])).stdout.trim();
      assert.match(group, /^portsentry:x:\d+:alice$/);
      const gid = Number(group.split(':')[2]);
      assert.ok(gid < 1000, 'a system group');
      const state = await stat(join(rootfs.dir, 'var/lib/portsentry-desktop'));
      assert.equal(state.mode & 0o7777, 0o750);
      assert.equal(state.gid, gid);
    });

    it('portsentryd --check-config accepts the installed config', { skip }, async () => {
      const { stdout } = await rootfs.chroot(['portsentryd', '--check-config', '-c', '/etc/portsentry-desktop/portsentry.conf']);
      assert.match(stdout, /^\/etc\/portsentry-desktop\/portsentry\.conf: OK \(\d+ ignore entries\)$/m);
    });

    it('detects and blocks a scan right after install', { skip }, async () => {
      lab = await createLab(['server', 'scanner', 'client']);
      const { server, scanner, client } = lab.hosts;
      // The installed command, in the installed tree, as the unit starts it.
      const child = lab.spawn(server, ['chroot', rootfs.dir, '/usr/sbin/portsentryd', '-c', '/etc/portsentry-desktop/portsentry.conf', '-tcp', '-udp'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
      });
      daemon = new DaemonProcess(child);
      await daemon.waitFor('PortSentry is now active and listening');
      // A real service on a port that is not a tripwire, to see who can still reach the host.
      service = await startTcpService(lab, server, SERVICE_PORT);
      await until('the service listens', () => tcpReachable(lab, scanner, server.v4, SERVICE_PORT));
      // A single connect to tripwire 1 is a scan under the defaults (SCAN_TRIGGER="0").
      await lab.exec(scanner, ['socat', '-u', 'OPEN:/dev/null', `TCP4:${server.v4}:1,connect-timeout=2`], { allowFailure: true });
      const alert = await daemon.waitFor(new RegExp(`attackalert: .*${scanner.v4.replaceAll('.', '\\.')}.* TCP port: 1\\b`));
      assert.match(alert, /^portsentry\[\d+\]: attackalert:/);
      await daemon.waitFor(new RegExp(`${scanner.v4.replaceAll('.', '\\.')}.*blocked`));
      const set = (await lab.exec(server, ['nft', 'list', 'set', 'inet', 'portsentry', 'blocked4'])).stdout;
      assert.ok(set.includes(scanner.v4), `the scanner is in the installed daemon's block set:\n${set}`);
      assert.equal(await tcpReachable(lab, scanner, server.v4, SERVICE_PORT), false, 'the scanner is cut off');
      assert.ok(await tcpReachable(lab, client, server.v4, SERVICE_PORT), 'other hosts still get through');
    });
  });
});
