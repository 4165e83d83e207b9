// What the tray shows, as plain data: the icon, the tooltip and the menu. The Electron glue
// turns this into a Tray and a Menu and maps each item's action back to a handler; keeping
// the decisions here lets tests cover every state without a display.

import type { GuiPreferences, HelperState } from '../shared/desktop-api.js';
import type { RecentScanner } from './recent-scanners.js';
import { relativeTime } from './relative-time.js';

/** 'unprotected': connected, not paused, yet nobody is blocked (blocking off, everything ignored) or the firewall is degraded. */
export type TrayIcon = 'armed' | 'alert' | 'paused' | 'unprotected' | 'unreachable';

export type TrayAction =
  | { readonly id: 'block'; readonly address: string }
  | { readonly id: 'unblock'; readonly address: string }
  /** Without a duration: until resumed. */
  | { readonly id: 'pause'; readonly durationSeconds?: number }
  | { readonly id: 'resume' }
  | { readonly id: 'install-helper' }
  | { readonly id: 'open-dashboard' }
  | { readonly id: 'open-settings' }
  | { readonly id: 'set-start-at-login'; readonly enabled: boolean }
  | { readonly id: 'quit' };

export type TrayMenuItem =
  | {
      readonly type: 'item';
      readonly label: string;
      readonly enabled: boolean;
      /** Present only on checkbox items. */
      readonly checked?: boolean;
      /** Absent on informational lines (status, headings). */
      readonly action?: TrayAction;
    }
  | { readonly type: 'separator' };

export interface TrayModel {
  readonly icon: TrayIcon;
  readonly tooltip: string;
  readonly menu: readonly TrayMenuItem[];
}

export interface TrayInput {
  readonly helper: HelperState;
  /** Newest first (see recent-scanners.ts). */
  readonly scanners: readonly RecentScanner[];
  readonly preferences: Pick<GuiPreferences, 'startAtLogin'>;
  readonly now: number;
  /** How long the icon stays "alert" after the latest scan. */
  readonly alertSeconds?: number;
  /** Why the helper service stopped (exit status, last log line), when it is not running and systemd says. */
  readonly stoppedBecause?: string | null;
}

export const DEFAULT_ALERT_SECONDS = 60;
/** The pause lengths the menu offers (the helper resumes by itself at the end). */
export const PAUSE_CHOICES: ReadonlyArray<{ readonly label: string; readonly seconds?: number }> = [
  { label: 'Pause for 15 minutes', seconds: 900 },
  { label: 'Pause for 1 hour', seconds: 3600 },
  { label: 'Pause until resumed' },
];

/** "in 14 min", "in 1 h 5 min": how long until a timed pause ends. */
export function remainingText(untilMs: number, now: number): string {
  const minutes = Math.max(1, Math.ceil((untilMs - now) / 60_000));
  return minutes < 60 ? `in ${minutes} min` : `in ${Math.floor(minutes / 60)} h${minutes % 60 === 0 ? '' : ` ${minutes % 60} min`}`;
}
const SEPARATOR: TrayMenuItem = { type: 'separator' };

export function trayModel(input: TrayInput): TrayModel {
  const { helper, scanners, now } = input;
  const connected = helper.kind === 'connected';
  const latest = scanners.reduce<RecentScanner | undefined>((a, s) => (a === undefined || s.lastSeen > a.lastSeen ? s : a), undefined);
  const alertMs = (input.alertSeconds ?? DEFAULT_ALERT_SECONDS) * 1000;
  const recentlyScanned = latest !== undefined && now - latest.lastSeen >= 0 && now - latest.lastSeen < alertMs;

  const trouble = helper.kind === 'connected' && !helper.paused ? troubleOf(helper) : null;
  const icon: TrayIcon = !connected ? 'unreachable' : helper.paused ? 'paused' : trouble !== null ? 'unprotected' : recentlyScanned ? 'alert' : 'armed';

  const menu: TrayMenuItem[] = [info(statusLine(helper, now))];
  // Each state that needs the user has an item that leads to its fix.
  if (helper.kind === 'unreachable' && helper.reason === 'not-running') {
    if ((input.stoppedBecause ?? null) !== null) menu.push(info(`Stopped: ${input.stoppedBecause}`));
    menu.push({ type: 'item', label: 'Install or start the helper…', enabled: true, action: { id: 'install-helper' } });
  }
  if (helper.kind === 'unreachable' && helper.reason === 'permission-denied') {
    // The dashboard's set-up card knows whether joining the group or a new login is what is missing.
    menu.push({ type: 'item', label: 'Get access to the helper…', enabled: true, action: { id: 'open-dashboard' } });
  }
  if (helper.kind === 'connected' && !helper.paused && (helper.notProtecting ?? null) !== null) {
    menu.push({ type: 'item', label: 'Turn protection back on…', enabled: true, action: { id: 'open-settings' } });
  }
  if (helper.kind === 'connected' && (helper.degraded ?? null) !== null) {
    menu.push({ type: 'item', label: 'Show the firewall problem…', enabled: true, action: { id: 'open-dashboard' } });
  }
  menu.push(SEPARATOR);
  if (scanners.length === 0) {
    menu.push(info('No scans seen yet'));
  } else {
    menu.push(info('Recent scanners'));
    for (const scanner of scanners) menu.push(scannerItem(scanner, connected, now));
  }
  menu.push(SEPARATOR);
  if (connected && helper.paused) menu.push({ type: 'item', label: 'Resume protection', enabled: true, action: { id: 'resume' } });
  else {
    for (const choice of PAUSE_CHOICES) {
      menu.push({ type: 'item', label: choice.label, enabled: connected, action: choice.seconds === undefined ? { id: 'pause' } : { id: 'pause', durationSeconds: choice.seconds } });
    }
  }
  menu.push(
    { type: 'item', label: 'Open dashboard', enabled: true, action: { id: 'open-dashboard' } },
    { type: 'item', label: 'Settings…', enabled: true, action: { id: 'open-settings' } },
    {
      type: 'item',
      label: 'Start at login',
      enabled: true,
      checked: input.preferences.startAtLogin,
      action: { id: 'set-start-at-login', enabled: !input.preferences.startAtLogin },
    },
    SEPARATOR,
    { type: 'item', label: 'Quit PortSentry', enabled: true, action: { id: 'quit' } },
  );

  return { icon, tooltip: tooltip(helper, latest, recentlyScanned, now), menu };
}

function info(label: string): TrayMenuItem {
  return { type: 'item', label, enabled: false };
}

function statusLine(helper: HelperState, now: number): string {
  switch (helper.kind) {
    case 'connecting':
      return 'Connecting to the helper…';
    case 'connected':
      if (!helper.paused) return troubleOf(helper) ?? 'Protection active';
      return helper.pausedUntil === undefined || helper.pausedUntil === null ? 'Protection paused' : `Protection paused, resumes ${remainingText(helper.pausedUntil, now)}`;
    case 'unreachable':
      return `Helper unreachable: ${unreachableSummary(helper.reason)}`;
  }
}

/** Why a connected, unpaused helper does not protect as it should, in one line; null when it does. */
function troubleOf(helper: Extract<HelperState, { kind: 'connected' }>): string | null {
  const parts: string[] = [];
  if ((helper.notProtecting ?? null) !== null) parts.push(`Not protecting: ${helper.notProtecting}`);
  if ((helper.degraded ?? null) !== null) parts.push(`Firewall degraded: ${helper.degraded}`);
  return parts.length === 0 ? null : parts.join('; ');
}

function unreachableSummary(reason: Extract<HelperState, { kind: 'unreachable' }>['reason']): string {
  switch (reason) {
    case 'not-running':
      return 'not running';
    case 'permission-denied':
      return 'permission denied (join the portsentry group)';
    case 'timeout':
      return 'not answering';
    case 'protocol':
      return 'incompatible version';
    case 'disconnected':
      return 'connection lost';
  }
}

/** One line per scanner; the one action offered is the opposite of its current state. */
function scannerItem(scanner: RecentScanner, connected: boolean, now: number): TrayMenuItem {
  const who = scanner.resolvedName === undefined ? scanner.source : `${scanner.source} (${scanner.resolvedName})`;
  const when = relativeTime(scanner.lastSeen, now);
  return scanner.blocked
    ? { type: 'item', label: `Unblock ${who} · blocked, ${when}`, enabled: connected, action: { id: 'unblock', address: scanner.source } }
    : { type: 'item', label: `Block ${who} · ${when}`, enabled: connected, action: { id: 'block', address: scanner.source } };
}

function tooltip(helper: HelperState, latest: RecentScanner | undefined, recentlyScanned: boolean, now: number): string {
  switch (helper.kind) {
    case 'connecting':
      return 'PortSentry: connecting to the helper';
    case 'unreachable':
      return `PortSentry: helper ${unreachableSummary(helper.reason)}`;
    case 'connected': {
      const until = helper.paused && helper.pausedUntil !== undefined && helper.pausedUntil !== null ? `, resumes ${remainingText(helper.pausedUntil, now)}` : '';
      const trouble = helper.paused ? null : troubleOf(helper);
      const head = trouble !== null ? `PortSentry: ${trouble}` : `PortSentry: protection ${helper.paused ? 'paused' : 'active'}${until}`;
      if (latest === undefined) return head;
      const what = latest.blocked ? 'blocked' : 'not blocked';
      return `${head}\n${recentlyScanned ? 'Scanned just now' : 'Last scan'} by ${latest.source} (${what}), ${relativeTime(latest.lastSeen, now)}`;
    }
  }
}
