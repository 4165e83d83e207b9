// Getting a helper running when there is none. The helper needs root (raw capture, the
// firewall, binding low ports), so the app asks the system for it through sudo-prompt
// (pkexec / the platform's admin prompt), and only after the user has read why and agreed
// in a dialog. The command is built from fixed strings: nothing the user or the network
// typed ever reaches the root shell that sudo-prompt starts. And root never runs a file the
// user could have rewritten: the bundled installer is offered only when it, the helper next
// to it and every folder above them belong to root and nobody else may write them (a .deb or
// .rpm under /opt); from a tarball or an AppImage in the user's reach, the app offers the
// system package instead of `sh ~/…/install-helper.sh`.

import { access, constants, lstat, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';

export const SERVICE_NAME = 'portsentryd';
export const SYSTEMCTL = '/usr/bin/systemctl';
export const SH = '/bin/sh';
export const USERMOD = '/usr/sbin/usermod';
/** Where a packaged install puts the unit; the first that exists counts. */
export const UNIT_PATHS = [`/etc/systemd/system/${SERVICE_NAME}.service`, `/lib/systemd/system/${SERVICE_NAME}.service`, `/usr/lib/systemd/system/${SERVICE_NAME}.service`];

export const ROOT_EXPLANATION = [
  'PortSentry watches for port scans with a small background service (the helper).',
  'The helper needs administrator rights because it listens on low ports, captures packets',
  'and adds blocking rules to the firewall. The desktop app itself keeps running as you and',
  'only talks to the helper through a local socket.',
].join(' ');

export type InstallPlan =
  | { readonly kind: 'start' }
  /** `user` is added to the helper's group by the installer (the desktop user, never root's choice of someone else). */
  | { readonly kind: 'install'; readonly installer: string; readonly user?: string }
  | { readonly kind: 'join-group'; readonly group: string; readonly user: string }
  | { readonly kind: 'unavailable'; readonly message: string };

export interface DetectOptions {
  readonly unitPaths?: readonly string[];
  /** The installer shipped with the app (process.resourcesPath in a packaged build). */
  readonly installer?: string;
}

/** Installed but stopped -> start it; not installed -> run the bundled installer. */
export async function planHelperInstall(options: DetectOptions = {}): Promise<InstallPlan> {
  for (const unit of options.unitPaths ?? UNIT_PATHS) {
    if (await exists(unit)) return { kind: 'start' };
  }
  if (options.installer !== undefined && safeInstallerPath(options.installer) && (await exists(options.installer))) {
    const writable = await notRootOnly([options.installer, join(dirname(options.installer), 'helper')]);
    if (writable === null) return { kind: 'install', installer: options.installer };
    return { kind: 'unavailable', message: userWritableMessage(writable) };
  }
  return { kind: 'unavailable', message: 'The helper is not installed and this build has no installer. Install the portsentry-desktop package.' };
}

/** What the user reads when this copy of the app is one they could change (a tarball, an AppImage). */
export function userWritableMessage(path: string): string {
  return (
    `This copy of PortSentry is not one only the administrator can change (${path} is not root's alone), so it will not run its installer as administrator: ` +
    'the helper runs as root, and root must never run code your account could rewrite. Install the portsentry-desktop package for your system instead ' +
    '(for example "sudo apt install ./portsentry-desktop_VERSION_amd64.deb" or "sudo dnf install ./portsentry-desktop-VERSION.x86_64.rpm"); it installs and starts the helper itself.'
  );
}

/**
 * The first path that someone other than root could change: not owned by root, writable by
 * group or others, a symbolic link, or below a folder like that (every folder up to /). Each
 * tree is walked whole. Null when every one is root's alone.
 */
export async function notRootOnly(paths: readonly string[]): Promise<string | null> {
  const checked = new Set<string>();
  const unsafe = async (path: string): Promise<boolean> => {
    const info = await lstat(path).catch(() => null);
    return info === null || info.isSymbolicLink() || info.uid !== 0 || (info.mode & 0o022) !== 0;
  };
  for (const path of paths) {
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if (!checked.has(dir)) {
        checked.add(dir);
        if (await unsafe(dir)) return dir;
      }
      if (dir === dirname(dir)) break;
    }
    const pending = [path];
    while (pending.length > 0) {
      const next = pending.pop()!;
      if (await unsafe(next)) return next;
      const info = await lstat(next);
      if (info.isDirectory()) for (const name of await readdir(next)) pending.push(join(next, name));
    }
  }
  return null;
}

/** What the consent dialog says for a plan. */
export function consentText(plan: Exclude<InstallPlan, { kind: 'unavailable' }>): { readonly message: string; readonly detail: string; readonly buttons: readonly [string, string] } {
  if (plan.kind === 'join-group') {
    return {
      message: `PortSentry needs administrator rights to add ${plan.user} to the "${plan.group}" group.`,
      detail: `Members of "${plan.group}" may talk to the PortSentry helper (see scans, block and unblock, change settings). After this you log out and back in once. ${ROOT_EXPLANATION} Runs as administrator: ${USERMOD} -a -G ${plan.group} ${plan.user}.`,
      buttons: ['Cancel', 'Add me to the group'],
    };
  }
  const action = plan.kind === 'start' ? 'start the PortSentry helper service' : 'install and start the PortSentry helper service';
  // Say exactly what runs as root (and for the installer, that only root can change it).
  const what =
    plan.kind === 'start' ? `${SYSTEMCTL} start ${SERVICE_NAME}` : `${SH} ${plan.installer}${plan.user === undefined ? '' : ` --user ${plan.user}`} (a file only root can change, checked just now)`;
  return {
    message: `PortSentry needs administrator rights to ${action}.`,
    detail: `${ROOT_EXPLANATION} Runs as administrator: ${what}.`,
    buttons: ['Cancel', plan.kind === 'start' ? 'Start helper' : 'Install helper'],
  };
}

/** Proof that the user agreed to this very plan; only consentFromDialog makes one. */
export interface Consent {
  readonly plan: Exclude<InstallPlan, { kind: 'unavailable' }>;
  readonly agreed: true;
}

/** Button 1 is the "do it" button of consentText; anything else (Cancel, Escape, closed) is no. */
export function consentFromDialog(plan: InstallPlan, response: number): Consent | null {
  if (plan.kind === 'unavailable' || response !== 1) return null;
  return { plan, agreed: true };
}

/** The argv run as root. Fixed strings only, plus the bundled installer's own path. */
export function privilegedArgv(plan: Consent['plan']): readonly string[] {
  switch (plan.kind) {
    case 'start':
      return [SYSTEMCTL, 'start', SERVICE_NAME];
    case 'install':
      if (!safeInstallerPath(plan.installer)) throw new Error('refusing an installer path outside the expected character set');
      if (plan.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(plan.user)) throw new Error('refusing a user name outside the portable character set');
      return plan.user === undefined ? [SH, plan.installer] : [SH, plan.installer, '--user', plan.user];
    case 'join-group':
      if (![plan.group, plan.user].every((name) => /^[a-z_][a-z0-9_-]{0,31}$/.test(name))) throw new Error('refusing a user or group name outside the portable character set');
      return [USERMOD, '-a', '-G', plan.group, plan.user];
  }
}

/**
 * sudo-prompt takes one command string and hands it to a shell, so the argv is quoted here:
 * each word in single quotes, with the installer path restricted to plain characters anyway.
 */
export function shellCommand(argv: readonly string[]): string {
  return argv.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}

/** Absolute, and only characters that need no quoting thought: no quotes, $, `, ; or newlines. */
export function safeInstallerPath(path: string): boolean {
  return isAbsolute(path) && /^[A-Za-z0-9_./ -]{1,4096}$/.test(path) && !path.split('/').includes('..');
}

export type SudoExec = (command: string, options: { name: string }, callback: (error?: Error, stdout?: string | Buffer, stderr?: string | Buffer) => void) => void;

export type InstallResult = { readonly ok: true; readonly command: string } | { readonly ok: false; readonly reason: 'no-consent' | 'failed'; readonly message: string };

/**
 * Runs the plan as root. Without a Consent for it nothing is loaded and nothing runs.
 * sudo-prompt is required only here, so an app that never needs it never loads it.
 */
export async function runPrivileged(consent: Consent | null, sudoExec?: SudoExec): Promise<InstallResult> {
  if (consent === null || consent.agreed !== true) return { ok: false, reason: 'no-consent', message: 'the user did not agree' };
  let command: string;
  try {
    command = shellCommand(privilegedArgv(consent.plan));
  } catch (error) {
    return { ok: false, reason: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
  return new Promise((resolve) => {
    try {
      const exec = sudoExec ?? loadSudoPrompt().exec;
      // sudo-prompt shows `name` in the system's password dialog; letters and spaces only.
      exec(command, { name: 'PortSentry Desktop' }, (error, _stdout, stderr) => {
        if (error !== undefined && error !== null) resolve({ ok: false, reason: 'failed', message: `${error.message}${stderr ? `: ${String(stderr).trim()}` : ''}` });
        else resolve({ ok: true, command });
      });
    } catch (error) {
      resolve({ ok: false, reason: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  });
}

/**
 * @vscode/sudo-prompt: the maintained fork of sudo-prompt with the same exec() API. The
 * original 9.2.1 (its last release) calls util.isObject/util.isFunction, which Node 23
 * removed, so under Electron 41's Node 24 every exec() would throw unless util were patched
 * by hand; the fork defines its own.
 */
function loadSudoPrompt(): { exec: SudoExec } {
  return createRequire(import.meta.url)('@vscode/sudo-prompt') as { exec: SudoExec };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
