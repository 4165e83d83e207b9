#!/usr/bin/env node
// For whoever has the Electron binary (this project's build machines do not): runs the real
// app against a running helper and lists what to check by hand, the part the tests' harness
// (test/main/electron-harness, chromium standing in for Electron) cannot show: a real tray
// icon, real menus, real dialogs, the sandboxed preload under context isolation.
//   node scripts/real-electron-check.mjs [--socket PATH] [--failing-start]
// --failing-start points the app at a user-data directory whose preferences file cannot be
// read or moved aside (Linux/macOS: chmod 000 on the directory; run as a normal user), to see
// the start-up error dialog and the exit.

import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
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
if (values['failing-start']) {
  const dir = mkdtempSync(join(tmpdir(), 'portsentry-failing-'));
  writeFileSync(join(dir, 'preferences.json'), '{ not json');
  chmodSync(dir, 0o500);
  args.push(`--user-data-dir=${dir}`);
  console.log(`Expect: an error dialog "PortSentry could not start" naming ${dir}, then exit status 1, no tray icon left.`);
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
  8. Windows: a toast appears after a scan, attributed to "PortSentry Desktop".`);
const child = spawn(electron, args, { stdio: 'inherit', env });
child.on('exit', (code, signal) => {
  console.log(`Electron exited: ${code ?? signal}`);
  process.exit(code ?? 1);
});
