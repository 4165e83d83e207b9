// The helper installer the desktop app runs (build/install-helper.sh), in a clean Debian 12
// root (test/build/debian-rootfs.ts): from a tarball in a user's home never (the app offers the
// system package, and the script refuses a tree the user could rewrite: root never runs a file
// the user owns), from a package's tree under /opt (linked, as the .deb's after-install does),
// run twice (nothing lost, the config kept), with bad arguments refused; and the installed helper starts and blocks a real scan from another
// namespace. The app's own plan for it (main/helper-setup.ts) is checked against the same
// script: the argv it would hand to sudo-prompt runs it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, cp, lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { consentFromDialog, planHelperInstall, privilegedArgv, runPrivileged } from '../../main/install-helper.js';
import { fixPlan, type SetupFacts } from '../../main/helper-setup.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { startTcpService } from '../support/helper-config.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { copyOfCachedRootfs, ensureCachedRootfs, type Rootfs } from './debian-rootfs.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TARGET = '/usr/lib/portsentry-desktop';
const SERVICE_PORT = 8080;

/** What electron-builder puts in resources/ (build/electron-builder.yml extraResources), built from this tree. */
async function writeAppResources(resources: string): Promise<void> {
  const helper = join(resources, 'helper');
  await mkdir(helper, { recursive: true });
  const onlyJs = (source: string) => !/\.(map|d\.ts)$/.test(source);
  await cp(join(REPO, 'dist/privileged-helper'), join(helper, 'dist/privileged-helper'), { recursive: true, filter: onlyJs });
  await cp(join(REPO, 'dist/shared'), join(helper, 'dist/shared'), { recursive: true, filter: onlyJs });
  // The helper's runtime packages, as build/electron-builder.yml lists them.
  for (const pkg of ['zod', 'prom-client', '@opentelemetry/api', 'tdigest', 'bintrees']) await cp(join(REPO, 'node_modules', pkg), join(helper, 'node_modules', pkg), { recursive: true });
  await copyFile(join(REPO, 'build/helper-package.json'), join(helper, 'package.json'));
  await cp(join(REPO, 'build/systemd'), join(helper, 'systemd'), { recursive: true });
  await mkdir(join(helper, 'node/bin'), { recursive: true });
  await copyFile(await realNode(), join(helper, 'node/bin/node'));
  await run('chmod', ['0755', join(helper, 'node/bin/node')]);
  await copyFile(join(REPO, 'build/install-helper.sh'), join(resources, 'install-helper.sh'));
}

async function realNode(): Promise<string> {
  return String((await run('readlink', ['-f', join(REPO, 'node_modules/node/bin/node')])).stdout).trim();
}

describe('the helper installer the app runs, in a clean Debian root', { timeout: 1_800_000 }, () => {
  let rootfs: Rootfs;
  let lab: Lab<'server' | 'scanner'> | undefined;
  let daemon: DaemonProcess | undefined;
  let service: ReturnType<Lab['spawn']> | undefined;
  const HOME_APP = '/home/alice/PortSentry-linux-x64/resources';
  const OPT_APP = '/opt/PortSentry Desktop/resources';

  before(async () => {
    await ensureCachedRootfs((line) => console.error(`# ${line}`));
    rootfs = await copyOfCachedRootfs();
    await rootfs.chroot(['useradd', '--create-home', 'alice']);
    await writeAppResources(join(rootfs.dir, HOME_APP));
    // A tarball unpacked by alice: everything hers.
    await rootfs.chroot(['chown', '-R', 'alice:alice', '/home/alice/PortSentry-linux-x64']);
  });

  after(async () => {
    service?.kill();
    if (daemon !== undefined) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await lab?.destroy();
    await rootfs?.destroy();
  });

  it('refuses to run without root, with unknown arguments or a bad user name, changing nothing', async () => {
    const script = `${HOME_APP}/install-helper.sh`;
    const attempts: Array<[string[], RegExp]> = [
      [['--user', 'alice;reboot'], /not a user name/],
      [['--user', '$(id)'], /not a user name/],
      [['--user', 'nobody-here'], /no such user/],
      [['--user'], /--user needs a name/],
      [['--prefix', '/tmp'], /unknown argument/],
    ];
    for (const [args, message] of attempts) {
      await assert.rejects(rootfs.chroot(['sh', script, ...args]), (error: { stderr?: string }) => message.test(String(error.stderr)), args.join(' '));
    }
    await assert.rejects(rootfs.chroot(['su', 'alice', '-s', '/bin/sh', '-c', `sh ${script}`]), (error: { stderr?: string }) => /must run as root/.test(String(error.stderr)));
    await assert.rejects(lstat(join(rootfs.dir, TARGET)), 'nothing was installed');
  });

  it('tarball in a home directory: the app never offers to run its files as root, and the installer itself refuses them', async () => {
    // The app's plan for alice's tarball: the system package, not "sh ~/…/install-helper.sh".
    const installer = join(rootfs.dir, HOME_APP, 'install-helper.sh');
    const plan = await planHelperInstall({ unitPaths: [], installer });
    assert.equal(plan.kind, 'unavailable');
    assert.match((plan as { message: string }).message, /Install the portsentry-desktop package/);
    // With no plan there is nothing to consent to, and sudo-prompt is never called.
    const asked: string[] = [];
    const result = await runPrivileged(consentFromDialog(plan, 1), (command, _options, callback) => {
      asked.push(command);
      callback();
    });
    assert.deepEqual([result.ok, asked], [false, []]);
    // Run by hand as root anyway, the installer stops before it copies, links or starts anything.
    await assert.rejects(rootfs.chroot(['sh', `${HOME_APP}/install-helper.sh`, '--user', 'alice']), (error: { stderr?: string }) =>
      /is not root's alone, so root will not install a service from it: install the portsentry-desktop package/.test(String(error.stderr)),
    );
    await assert.rejects(lstat(join(rootfs.dir, TARGET)), 'nothing was installed');
    await assert.rejects(lstat(join(rootfs.dir, 'etc/systemd/system/portsentryd.service')), 'no unit either');
  });

  it('package tree under /opt (root-owned): links to it, as the .deb does, and sets up config, group, state and unit', async () => {
    await writeAppResources(join(rootfs.dir, OPT_APP));
    // The exact argv the app hands to sudo-prompt for "Install the helper".
    const facts: SetupFacts = {
      helper: { kind: 'unreachable', reason: 'not-running', message: 'no socket' },
      installed: false,
      installer: `${OPT_APP}/install-helper.sh`,
      user: 'alice',
      group: null,
      processGroups: [],
      sessionId: null,
    };
    const plan = fixPlan('install', facts);
    assert.equal(plan.kind, 'elevated');
    const argv = privilegedArgv((plan as Extract<typeof plan, { kind: 'elevated' }>).plan);
    assert.deepEqual(argv, ['/bin/sh', `${OPT_APP}/install-helper.sh`, '--user', 'alice']);
    const { stdout } = await rootfs.chroot([...argv]);
    assert.match(stdout, /portsentry-desktop -> \/opt\/PortSentry Desktop\/resources\/helper/);
    assert.match(stdout, /no systemd running here/);
    assert.equal(await readlink(join(rootfs.dir, TARGET)), `${OPT_APP}/helper`);
    assert.match(await readFile(join(rootfs.dir, 'etc/portsentry-desktop/portsentry.conf'), 'utf8'), /^TCP_PORTS=/m);
    assert.match(String((await rootfs.chroot(['getent', 'group', 'portsentry'])).stdout), /^portsentry:x:\d+:alice$/m);
    const state = await stat(join(rootfs.dir, 'var/lib/portsentry-desktop'));
    assert.equal(state.mode & 0o777, 0o750);
    const unit = await readFile(join(rootfs.dir, 'etc/systemd/system/portsentryd.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/lib\/portsentry-desktop\/node\/bin\/node .*portsentryd\.js -c \/etc\/portsentry-desktop\/portsentry\.conf/m);
  });

  it("run again: the admin's config is kept; a tree someone else may write is refused, not linked", async () => {
    const conf = join(rootfs.dir, 'etc/portsentry-desktop/portsentry.conf');
    await writeFile(conf, `${await readFile(conf, 'utf8')}\n# edited by the admin\n`);
    await rootfs.chroot(['sh', `${OPT_APP}/install-helper.sh`, '--user', 'alice']);
    assert.match(await readFile(conf, 'utf8'), /# edited by the admin/);
    assert.equal(
      String((await rootfs.chroot(['getent', 'group', 'portsentry'])).stdout)
        .trim()
        .split(':')[3],
      'alice',
      'alice once, not twice',
    );
    // The same tree made writable by others: root never runs what others can change.
    await rootfs.chroot(['chmod', 'o+w', `${OPT_APP}/helper/dist`]);
    await assert.rejects(rootfs.chroot(['sh', `${OPT_APP}/install-helper.sh`]), (error: { stderr?: string }) => /not root's alone/.test(String(error.stderr)));
    await rootfs.chroot(['chmod', 'o-w', `${OPT_APP}/helper/dist`]);
  });

  it('the installed helper starts as the unit runs it and blackholes a real scan', async () => {
    lab = await createLab(['server', 'scanner']);
    const { server, scanner } = lab.hosts;
    const unit = await readFile(join(rootfs.dir, 'etc/systemd/system/portsentryd.service'), 'utf8');
    const execStart = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(' ');
    const child = lab.spawn(server, ['chroot', rootfs.dir, ...execStart], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon = new DaemonProcess(child);
    await daemon.waitFor(/active and listening|Control socket listening/);
    service = await startTcpService(lab, server, SERVICE_PORT);
    assert.equal(await tcpReachable(lab, scanner, server.v4, SERVICE_PORT), true);
    await lab.exec(scanner, ['nmap', '-sT', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79,111', server.v4]);
    await daemon.waitFor(/has been blocked/);
    assert.equal(await tcpReachable(lab, scanner, server.v4, SERVICE_PORT), false, 'the scanner is blackholed');
    await lab.exec(server, ['nft', 'delete', 'table', 'inet', 'portsentry'], { allowFailure: true });
  });
});
