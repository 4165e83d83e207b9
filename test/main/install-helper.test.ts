// Installing or starting the helper: which plan, what the user is told, that nothing runs
// without consent, and that the root command is built from fixed strings. The real
// sudo-prompt is loaded lazily and asked for real; on this machine it finds no graphical
// prompt (pkexec/kdesudo), and the failure comes back as a result, not an exception.
// Also the Linux "start at login" entry.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { consentFromDialog, consentText, planHelperInstall, privilegedArgv, ROOT_EXPLANATION, runPrivileged, safeInstallerPath, shellCommand, type SudoExec } from '../../main/install-helper.js';
import { AUTOSTART_FILE, autostartDirectory, autostartEntry, desktopExecLine, setLinuxAutostart } from '../../main/login-item.js';

const run = promisify(execFile);

describe('installing the helper', () => {
  let dir: string;
  before(async () => {
    // Under /run (root's, 0755), not /tmp: a folder anyone may write is no place for what root runs.
    dir = await mkdtemp('/run/ps-install-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('plans start when the unit exists, install when only the installer does, and says so otherwise', async () => {
    const unit = join(dir, 'portsentryd.service');
    const installer = join(dir, 'install helper.sh');
    assert.deepEqual(await planHelperInstall({ unitPaths: [unit], installer }), {
      kind: 'unavailable',
      message: 'The helper is not installed and this build has no installer. Install the portsentry-desktop package.',
    });
    await writeFile(installer, '#!/bin/sh\n');
    await mkdir(join(dir, 'helper', 'dist'), { recursive: true });
    await writeFile(join(dir, 'helper', 'dist', 'portsentryd.js'), '');
    assert.deepEqual(await planHelperInstall({ unitPaths: [unit], installer }), { kind: 'install', installer });
    assert.equal((await planHelperInstall({ unitPaths: [unit], installer: `${dir}/evil$(id).sh` })).kind, 'unavailable');
    await writeFile(unit, '[Unit]\n');
    assert.deepEqual(await planHelperInstall({ unitPaths: [join(dir, 'missing'), unit], installer }), { kind: 'start' });
  });

  it('a tarball or AppImage the user could change is never run as root: the plan is the system package, not sh on their file', async () => {
    // The same layout as a tarball unpacked in a home directory: the files are the user's.
    const home = await mkdtemp('/run/ps-tarball-');
    try {
      const installer = join(home, 'resources', 'install-helper.sh');
      await mkdir(join(home, 'resources', 'helper', 'dist'), { recursive: true });
      await writeFile(installer, '#!/bin/sh\n');
      await writeFile(join(home, 'resources', 'helper', 'dist', 'portsentryd.js'), '');
      assert.equal((await planHelperInstall({ unitPaths: [], installer })).kind, 'install', "root's alone: offered");
      const refused = async (why: string) => {
        const plan = await planHelperInstall({ unitPaths: [], installer });
        assert.equal(plan.kind, 'unavailable', why);
        assert.match((plan as { message: string }).message, /root must never run code your account could rewrite\. Install the portsentry-desktop package/, why);
        assert.equal(consentFromDialog(plan, 1), null, `${why}: nothing to agree to, nothing runs`);
      };
      // A file deep in the helper the user owns (what they could rewrite after the check).
      await chown(join(home, 'resources', 'helper', 'dist', 'portsentryd.js'), 65534, 65534);
      await refused('a helper file owned by the user');
      await chown(join(home, 'resources', 'helper', 'dist', 'portsentryd.js'), 0, 0);
      await chmod(join(home, 'resources'), 0o777);
      await refused('a folder others may write');
      await chmod(join(home, 'resources'), 0o755);
      await chown(home, 65534, 65534);
      await refused('the whole tree unpacked by the user');
      await chown(home, 0, 0);
      await rm(installer);
      await symlink('/bin/true', installer);
      await refused('the installer a link');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('explains why root is needed and what runs as root, and only button 1 of that dialog is consent', () => {
    const start = consentText({ kind: 'start' });
    assert.match(start.message, /administrator rights to start the PortSentry helper service/);
    assert.equal(start.detail, `${ROOT_EXPLANATION} Runs as administrator: /usr/bin/systemctl start portsentryd.`);
    assert.match(
      consentText({ kind: 'install', installer: '/opt/PortSentry/resources/install-helper.sh', user: 'alice' }).detail,
      /Runs as administrator: \/bin\/sh \/opt\/PortSentry\/resources\/install-helper\.sh --user alice \(a file only root can change, checked just now\)\.$/,
    );
    assert.match(ROOT_EXPLANATION, /firewall/);
    assert.deepEqual(start.buttons, ['Cancel', 'Start helper']);
    assert.deepEqual(consentText({ kind: 'install', installer: '/x' }).buttons, ['Cancel', 'Install helper']);
    assert.equal(consentFromDialog({ kind: 'start' }, 0), null);
    assert.equal(consentFromDialog({ kind: 'start' }, -1), null);
    assert.equal(consentFromDialog({ kind: 'start' }, 2), null);
    assert.equal(consentFromDialog({ kind: 'unavailable', message: 'x' }, 1), null);
    assert.deepEqual(consentFromDialog({ kind: 'start' }, 1), { plan: { kind: 'start' }, agreed: true });
  });

  it('runs nothing without consent, and the exact fixed command with it', async () => {
    const commands: string[] = [];
    const recorder: SudoExec = (command, options, callback) => {
      commands.push(`${options.name}|${command}`);
      callback(undefined, 'ok', '');
    };
    assert.deepEqual(await runPrivileged(null, recorder), { ok: false, reason: 'no-consent', message: 'the user did not agree' });
    assert.deepEqual(await runPrivileged({ plan: { kind: 'start' }, agreed: false } as never, recorder), { ok: false, reason: 'no-consent', message: 'the user did not agree' });
    assert.deepEqual(commands, []);
    assert.deepEqual(await runPrivileged({ plan: { kind: 'start' }, agreed: true }, recorder), { ok: true, command: "'/usr/bin/systemctl' 'start' 'portsentryd'" });
    await runPrivileged({ plan: { kind: 'install', installer: '/opt/Port Sentry/install.sh' }, agreed: true }, recorder);
    assert.deepEqual(commands, ["PortSentry Desktop|'/usr/bin/systemctl' 'start' 'portsentryd'", "PortSentry Desktop|'/bin/sh' '/opt/Port Sentry/install.sh'"]);
    const refused = await runPrivileged({ plan: { kind: 'install', installer: "/tmp/x';reboot;'" }, agreed: true }, recorder);
    assert.equal(refused.ok, false);
    assert.equal(commands.length, 2, 'a hostile installer path never reaches sudo');
    const failing: SudoExec = (_c, _o, callback) => callback(new Error('User did not grant permission.'), '', 'denied');
    assert.deepEqual(await runPrivileged({ plan: { kind: 'start' }, agreed: true }, failing), { ok: false, reason: 'failed', message: 'User did not grant permission.: denied' });
    const throwing: SudoExec = () => {
      throw new Error('sync failure');
    };
    assert.deepEqual(await runPrivileged({ plan: { kind: 'start' }, agreed: true }, throwing), { ok: false, reason: 'failed', message: 'sync failure' });
  });

  it('quotes for the shell so that the shell gives back the same argv', async () => {
    const argv = ['/bin/echo', "it's", '$(id)', '`id`', 'a b', '"q"', '\\'];
    const { stdout } = await run('/bin/sh', ['-c', `printf '%s\\n' ${shellCommand(argv.slice(1))}`]);
    assert.deepEqual(stdout.split('\n').slice(0, -1), argv.slice(1));
    assert.deepEqual(privilegedArgv({ kind: 'start' }), ['/usr/bin/systemctl', 'start', 'portsentryd']);
    for (const bad of ['relative.sh', '/a/../b.sh', '/a/b;c', "/a/'b", '/a/$b', '/a/b\nc', '']) assert.equal(safeInstallerPath(bad), false, bad);
    assert.equal(safeInstallerPath('/opt/Port Sentry/resources/install-helper.sh'), true);
  });

  // As root, pkexec would run the command without asking: only where there is none.
  const hasPrompt = ['/usr/bin/pkexec', '/usr/bin/kdesudo'].some((p) => existsSync(p));
  it('loads the real @vscode/sudo-prompt (Node 24, no util patch) and reports its failure as a result', { skip: hasPrompt && 'pkexec present: would really run as root' }, async () => {
    const result = await runPrivileged({ plan: { kind: 'start' }, agreed: true });
    // sudo-prompt got past its argument checks to looking for a prompt: no util.isObject needed.
    assert.equal(((await import('node:util')) as unknown as Record<string, unknown>).isObject, undefined, 'nothing patched util');
    assert.deepEqual(result, { ok: false, reason: 'failed', message: 'Unable to find pkexec or kdesudo.' });
  });
});

describe('start at login on Linux', () => {
  it('writes and removes an XDG autostart entry with a correctly quoted Exec line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-autostart-'));
    try {
      const file = await setLinuxAutostart(true, ['/opt/Port Sentry/portsentry', '--hidden'], join(dir, 'autostart'));
      assert.equal(file, join(dir, 'autostart', AUTOSTART_FILE));
      const text = await readFile(file, 'utf8');
      assert.match(text, /^\[Desktop Entry\]\nType=Application\nName=PortSentry\n/);
      assert.match(text, /^Exec="\/opt\/Port Sentry\/portsentry" "--hidden"$/m);
      assert.equal((await stat(file)).mode & 0o777, 0o644);
      await setLinuxAutostart(false, [], join(dir, 'autostart'));
      await assert.rejects(stat(file));
      await setLinuxAutostart(false, [], join(dir, 'autostart')); // removing twice is fine
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(desktopExecLine(['/a$b', 'x"y', '50%', 'back\\slash']), '"/a\\\\$b" "x\\\\"y" "50%%" "back\\\\\\\\slash"');
    assert.throws(() => autostartEntry(['/a\nb']), /line breaks/);
    assert.equal(autostartDirectory({ XDG_CONFIG_HOME: '/cfg' }), '/cfg/autostart');
    assert.match(autostartDirectory({ XDG_CONFIG_HOME: 'relative' }), /\/\.config\/autostart$/);
  });
});
