// What the first-run view says about the helper and which one action fixes it. The facts
// (is the service installed, is the user in the group, does this login already carry it)
// are gathered by gatherSetupFacts at the edge; diagnoseHelper and fixPlan are pure.
// Membership is read from the group file and from the process's own groups: the file says
// whether the user was added, the process says whether this login session has it yet (a
// new group only reaches processes started after the next login).

import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { HelperFix, HelperSetup, HelperState } from '../shared/desktop-api.js';
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { planHelperInstall, privilegedArgv, SERVICE_NAME, shellCommand, type InstallPlan } from './install-helper.js';

/** The group the helper's socket admits (RPC_GROUP's default). */
export const HELPER_GROUP = 'portsentry';

export interface SetupFacts {
  readonly helper: HelperState;
  /** The service is installed (a unit file exists). */
  readonly installed: boolean;
  /** This build ships the installer (resources/install-helper.sh). */
  readonly installer: string | null;
  readonly user: string;
  /** The group as the group file has it; null when it does not exist yet. */
  readonly group: { readonly name: string; readonly gid: number; readonly members: readonly string[] } | null;
  /** Group ids this process runs with (process.getgroups()). */
  readonly processGroups: readonly number[];
  /** The login session to end for "log out" (XDG_SESSION_ID), when known. */
  readonly sessionId: string | null;
  /** Why the installed service is not running, from systemd (exit status, its last journal line); null when unknown. */
  readonly stoppedBecause?: string | null;
  /** A graphical password prompt exists (pkexec or kdesudo on Linux); without one, the command is shown to copy. */
  readonly elevation?: boolean;
}

/** "name:x:gid:member,member" lines; the named group, or null. */
export function findGroup(groupFile: string, name: string): SetupFacts['group'] {
  for (const line of groupFile.split('\n')) {
    const [groupName, , gid, members] = line.split(':');
    if (groupName !== name || gid === undefined || !/^\d+$/.test(gid)) continue;
    return {
      name,
      gid: Number(gid),
      members: (members ?? '')
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== ''),
    };
  }
  return null;
}

const ACTIONS: Readonly<Record<HelperFix, { label: string; elevated: boolean }>> = {
  install: { label: 'Install the helper', elevated: true },
  start: { label: 'Start the helper', elevated: true },
  'join-group': { label: 'Give me access', elevated: true },
  'log-out': { label: 'Log out now', elevated: false },
  retry: { label: 'Try again', elevated: false },
};

function action(id: HelperFix): HelperSetup['action'] {
  return { id, ...ACTIONS[id] };
}

/**
 * The first-run view's word: what is wrong, the one action, and, where no graphical password
 * prompt exists, the exact command that action runs (to copy into a terminal).
 */
export function diagnoseHelper(facts: SetupFacts): HelperSetup {
  const setup = diagnosis(facts);
  const plan = fixPlan(setup.action?.id ?? 'retry', facts);
  return plan.kind === 'manual' ? { ...setup, command: plan.command } : setup;
}

function diagnosis(facts: SetupFacts): HelperSetup {
  const { helper } = facts;
  if (helper.kind === 'connected') return { state: 'running', title: 'PortSentry is protecting this computer', detail: '', action: null };
  if (helper.kind === 'connecting') return { state: 'connecting', title: 'Connecting to the PortSentry helper', detail: '', action: null };
  switch (helper.reason) {
    case 'permission-denied': {
      const listed = facts.group !== null && facts.group.members.includes(facts.user);
      const active = facts.group !== null && facts.processGroups.includes(facts.group.gid);
      if (listed && !active) {
        return {
          state: 'needs-relogin',
          title: 'Log out and back in to finish',
          detail: `You were added to the "${facts.group!.name}" group, but this login session started before that. Log out and back in (or restart) and PortSentry connects by itself.`,
          action: facts.sessionId === null ? null : action('log-out'),
        };
      }
      if (active) {
        return {
          state: 'unreachable',
          title: 'The helper refused this connection',
          detail: `You are in the "${facts.group!.name}" group, yet the helper's socket refused the connection: ${helper.message}`,
          action: action('retry'),
        };
      }
      return {
        state: 'permission-denied',
        title: 'You are not allowed to talk to the helper yet',
        detail: `Only members of the "${facts.group?.name ?? HELPER_GROUP}" group may use the helper. Adding you needs an administrator password; afterwards you log out and back in once.`,
        action: action('join-group'),
      };
    }
    case 'not-running':
      if (facts.installed) {
        return {
          state: 'not-running',
          title: 'The PortSentry helper is not running',
          detail: `The helper service is installed but stopped, so nothing is watching for port scans.${(facts.stoppedBecause ?? null) === null ? '' : ` It stopped: ${facts.stoppedBecause}.`} Starting it needs an administrator password.`,
          action: action('start'),
        };
      }
      return {
        state: 'not-installed',
        title: 'The PortSentry helper is not installed',
        detail:
          facts.installer === null
            ? 'This copy of PortSentry has no installer for the helper. Install the portsentry-desktop package for your system.'
            : 'PortSentry watches for port scans with a small service that runs as administrator (it listens on low ports, captures packets and changes the firewall). Installing it needs an administrator password once; the app itself keeps running as you.',
        action: facts.installer === null ? null : action('install'),
      };
    default:
      return { state: 'unreachable', title: 'The helper is not answering', detail: helper.message, action: action('retry') };
  }
}

/** A user or group name that may appear in a command (POSIX portable, as useradd accepts). */
export function safeAccountName(name: string): boolean {
  return /^[a-z_][a-z0-9_-]{0,31}$/.test(name);
}

export type FixPlan =
  | { readonly kind: 'elevated'; readonly plan: Exclude<InstallPlan, { kind: 'unavailable' }> }
  /** No graphical password prompt: the command for the user to run in a terminal. */
  | { readonly kind: 'manual'; readonly command: string }
  | { readonly kind: 'run'; readonly argv: readonly string[] }
  | { readonly kind: 'retry' }
  | { readonly kind: 'refused'; readonly message: string };

/**
 * What a fix the page asked for does, checked against the current state: a page can only ask
 * for the action the diagnosis offers now, and the names put into a command are validated.
 */
export function fixPlan(requested: HelperFix, facts: SetupFacts): FixPlan {
  const plan = checkedFixPlan(requested, facts);
  // sudo-prompt needs pkexec (or kdesudo) on Linux; without it, the user runs the same argv with sudo.
  if (plan.kind === 'elevated' && facts.elevation === false) return { kind: 'manual', command: `sudo ${shellCommand(privilegedArgv(plan.plan))}` };
  return plan;
}

function checkedFixPlan(requested: HelperFix, facts: SetupFacts): FixPlan {
  const offered = diagnosis(facts).action?.id;
  if (offered !== requested) return { kind: 'refused', message: `"${requested}" is not what the helper needs now${offered === undefined ? '' : ` (that is "${offered}")`}` };
  switch (requested) {
    case 'retry':
      return { kind: 'retry' };
    case 'start':
      return { kind: 'elevated', plan: { kind: 'start' } };
    case 'install':
      if (facts.installer === null) return { kind: 'refused', message: 'this build has no installer' };
      if (!safeAccountName(facts.user)) return { kind: 'refused', message: 'your user name cannot be passed to the installer safely' };
      return { kind: 'elevated', plan: { kind: 'install', installer: facts.installer, user: facts.user } };
    case 'join-group':
      if (!safeAccountName(facts.user) || !safeAccountName(facts.group?.name ?? HELPER_GROUP)) return { kind: 'refused', message: 'the user or group name cannot be used safely' };
      return { kind: 'elevated', plan: { kind: 'join-group', group: facts.group?.name ?? HELPER_GROUP, user: facts.user } };
    case 'log-out':
      if (facts.sessionId === null || !/^[A-Za-z0-9]{1,64}$/.test(facts.sessionId)) return { kind: 'refused', message: 'the login session is not known; log out from the desktop menu' };
      return { kind: 'run', argv: ['/usr/bin/loginctl', 'terminate-session', facts.sessionId] };
  }
}

/** The facts, read now (the group file, the process, the unit files, the bundled installer). */
export async function gatherSetupFacts(helper: HelperState, installer: string | undefined, groupFile = '/etc/group'): Promise<SetupFacts> {
  const plan = await planHelperInstall(installer === undefined ? {} : { installer });
  const text = await readFile(groupFile, 'utf8').catch(() => '');
  return {
    helper,
    installed: plan.kind === 'start',
    installer: plan.kind === 'install' ? plan.installer : installer !== undefined && plan.kind === 'start' ? installer : null,
    user: userInfo().username,
    group: findGroup(text, HELPER_GROUP),
    processGroups: typeof process.getgroups === 'function' ? process.getgroups() : [],
    sessionId: process.env.XDG_SESSION_ID ?? null,
    stoppedBecause: plan.kind === 'start' && helper.kind === 'unreachable' && helper.reason === 'not-running' ? await serviceStopReason() : null,
    elevation: await graphicalElevation(),
  };
}

/**
 * Why a systemd service is not running, in words, from `systemctl show` (its result and the
 * main process's exit) and its last journal line (absent when this user may not read it).
 * Null when systemd says nothing useful (it never ran, or it was stopped on purpose).
 */
export function describeServiceStop(show: string, journalLine: string): string | null {
  const values = new Map(
    show
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string?])
      .filter((pair): pair is [string, string] => pair[1] !== undefined),
  );
  const result = values.get('Result') ?? '';
  const status = values.get('ExecMainStatus') ?? '';
  const journal = journalLine.trim().slice(0, 300);
  if ((result === '' || result === 'success') && (status === '' || status === '0') && journal === '') return null;
  const parts: string[] = [];
  if (status !== '' && status !== '0') parts.push(`${result === 'signal' ? 'killed by signal' : 'exit status'} ${status}`);
  if (result !== '' && result !== 'success') parts.push(`systemd: ${result}`);
  if (journal !== '') parts.push(`last log line: "${journal}"`);
  return parts.join(', ');
}

/** Why the helper service stopped, read now from systemd; null when it does not say. */
export async function serviceStopReason(): Promise<string | null> {
  const output = (argv: readonly string[]) => new Promise<string>((resolve) => execFile(argv[0]!, argv.slice(1), { timeout: 5000 }, (error, stdout) => resolve(error ? '' : String(stdout))));
  const [show, journal] = await Promise.all([
    output(['systemctl', 'show', SERVICE_NAME, '--property=Result,ExecMainStatus']),
    output(['journalctl', '--unit', SERVICE_NAME, '--lines', '1', '--output', 'cat', '--no-pager', '--quiet']),
  ]);
  return describeServiceStop(show, journal);
}

/** Whether sudo-prompt can ask for a password graphically here (it uses pkexec or kdesudo on Linux). */
export async function graphicalElevation(platform: NodeJS.Platform = process.platform, path = process.env.PATH ?? '/usr/bin:/bin'): Promise<boolean> {
  if (platform !== 'linux') return true;
  const dirs = [...new Set([...path.split(delimiter).filter((dir) => dir.startsWith('/')), '/usr/bin'])];
  const found = await Promise.all(
    dirs.flatMap((dir) => ['pkexec', 'kdesudo'].map((name) => new Promise<boolean>((resolve) => access(join(dir, name), constants.X_OK, (error) => resolve(error === null))))),
  );
  return found.includes(true);
}
