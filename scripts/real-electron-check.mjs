#!/usr/bin/env node
// For whoever has the Electron binary (this project's build machines do not): runs the real
// app against a running helper and lists what to check by hand, the part the tests' harness
// (test/main/electron-harness, chromium standing in for Electron) cannot show: a real tray
// icon, real menus, real dialogs, the sandboxed preload under context isolation.
//   node scripts/real-electron-check.mjs [--socket PATH] [--failing-start]
// --failing-start points the app at a user-data directory whose preferences file is invalid
// and cannot be moved aside, to see the start-up error dialog and the exit: the file is made
// immutable (macOS: chflags uchg, as the user; Linux: chattr +i, which needs root, so run this
// with sudo and Electron gets --no-sandbox), as the harness test does. Not the directory: Electron
// keeps its single-instance lock there, and with the directory read-only it quits at the lock
// (requestSingleInstanceLock() false) without reaching start().

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({ options: { socket: { type: 'string' }, 'failing-start': { type: 'boolean', default: false } } });
let electron;
try {
  electron = createRequire(join(root, 'package.json'))('electron');
} catch {
  electron = undefined;
}
if (typeof electron !== 'string') {
  console.error('No Electron binary here (see `npm start` for how to get one).');
  process.exit(1);
}

const args = [join(root, 'dist', 'main', 'electron', 'main.js')];
const env = { ...process.env, ELECTRON_ENABLE_LOGGING: '1' };
if (values.socket !== undefined) env.PORTSENTRY_SOCKET = values.socket;
/** Undoes what --failing-start did, so the directory can be removed. */
let cleanUp = () => undefined;
if (values['failing-start']) {
  const flags = { darwin: ['chflags', 'uchg', 'nouchg'], linux: ['chattr', '+i', '-i'] }[process.platform];
  if (flags === undefined) {
    console.error('--failing-start: only on Linux (as root) and macOS');
    process.exit(1);
  }
  if (process.platform === 'linux' && process.getuid?.() !== 0) {
    console.error('--failing-start: on Linux, chattr +i needs root (sudo node scripts/real-electron-check.mjs --failing-start)');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'portsentry-failing-'));
  const preferences = join(dir, 'preferences.json');
  writeFileSync(preferences, '{ not json');
  const [tool, set, unset] = flags;
  execFileSync(tool, [set, preferences]);
  cleanUp = () => {
    execFileSync(tool, [unset, preferences]);
    rmSync(dir, { recursive: true, force: true });
  };
  args.push(`--user-data-dir=${dir}`);
  // Chromium refuses to run as root with its sandbox on.
  if (process.platform === 'linux') args.push('--no-sandbox');
  console.log(`Expect: an error dialog "PortSentry could not start" saying the preferences file cannot be renamed, then exit status 1, no tray icon left.`);
}

console.log(`Running ${electron} ${args.join(' ')}
Check by hand (the tests cover the logic; these are what only a real Electron shows):
  1. A tray icon appears (green dot; macOS: a black template dot that follows light/dark mode), sharp on a HiDPI screen.
  2. Linux/Windows: the menu opens on click/right-click; macOS: a left click opens the dashboard, a right click the menu.
  3. An open menu stays open while scans arrive (run: nmap -sS -p 1,11,79 <this host> from another machine).
  4. Block/Unblock in the menu change 'nft list set inet portsentry blocked4' (Linux).
  5. Settings… opens the settings window; DevTools console: typeof require === 'undefined', window.portsentry is frozen.
  6. Start at login writes ~/.config/autostart/portsentry-desktop.desktop (AppImage: Exec is the .AppImage file).
  7. A second launch focuses the first instance's dashboard and exits.
  8. Clicking the scan's notification opens the dashboard at that event.
  9. Windows: a toast appears after a scan, attributed to "PortSentry Desktop".`);
const child = spawn(electron, args, { stdio: 'inherit', env });
child.on('exit', (code, signal) => {
  cleanUp();
  console.log(`Electron exited: ${code ?? signal}`);
  process.exit(code ?? 1);
});
