// The Electron main process: thin glue between Electron's objects and the plain modules in
// main/ (supervisor, tray model, notification policy, preferences, IPC validation, install).
// Every decision lives in those modules and is tested there; this file only wires them.

import { app, BrowserWindow, clipboard, dialog, ipcMain, Menu, nativeImage, session, Tray, type MenuItemConstructorOptions } from 'electron';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PreferenceChanges } from '../../shared/gui-preferences.js';
import type { NotifyMethod, PayloadOf } from '../../shared/ipc-schema.js';
import { defaultSocketPath } from '../../shared/socket-paths.js';
import { toApiError, type LocalHandlers } from '../api-router.js';
import { APP_USER_MODEL_ID } from '../app-identity.js';
import { raiseNotification, sharedDbusNotifier, type NotificationOutcome } from '../desktop-notifier.js';
import { fixHelper } from '../helper-fixer.js';
import { diagnoseHelper, gatherSetupFacts, graphicalElevation, serviceStopReason } from '../helper-setup.js';
import { shouldOpenDashboardAtStart, trayAvailable } from '../startup.js';
import { handleNotificationOutcome } from '../notification-actions.js';
import { HelperSupervisor } from '../helper-supervisor.js';
import { consentFromDialog, consentText, planHelperInstall, privilegedArgv, runPrivileged, shellCommand } from '../install-helper.js';
import { pushMessage, registerIpcHandlers } from '../ipc-handlers.js';
import { isTrustedSender } from '../ipc-validation.js';
import { autostartCommand, setLinuxAutostart } from '../login-item.js';
import { NotificationPolicy, type NotificationRequest } from '../notification-policy.js';
import { NetworkOwners } from '../network-owner.js';
import { openPreferences, type PreferencesStore } from '../preferences.js';
import { recordScannerEvent, type RecentScanner } from '../recent-scanners.js';
import { TrayDiff } from '../tray-diff.js';
import { trayIconSet } from '../tray-icon-set.js';
import { trayModel, type TrayAction, type TrayIcon, type TrayMenuItem } from '../tray-model.js';
import { hardenContents, hardenSession, secureWebPreferences } from './security.js';

type Page = 'dashboard' | 'settings';

/** dist/main/electron/main.js -> dist/renderer/ and dist/main/electron/preload.cjs */
const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const SOCKET_PATH = process.env.PORTSENTRY_SOCKET ?? defaultSocketPath(process.platform);
/** macOS: a left click is ours (open the dashboard); the menu comes on a right click. */
const MENU_ON_RIGHT_CLICK = process.platform === 'darwin';

const log = (message: string) => console.error(`portsentry-desktop: ${message}`);

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the tray; it was told (second-instance) to show its dashboard.
  app.quit();
} else {
  // Windows attributes notifications to this id; it must be set before the first one.
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
  app.on('second-instance', () => openWindow('dashboard'));
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => undefined);
  // A failure anywhere in start-up (whenReady or start itself) must not leave a process with
  // no tray and no window holding the single-instance lock: say why, then exit.
  app.whenReady().then(start).catch(failedToStart);
}

function failedToStart(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  log(`failed to start: ${message}`);
  try {
    dialog.showErrorBox('PortSentry could not start', message);
  } finally {
    app.exit(1);
  }
}

const windows = new Map<Page, BrowserWindow>();
let preferences: PreferencesStore;
let supervisor: HelperSupervisor;
let tray: Tray | null = null;
let trayMenu: Menu | null = null;
const trayDiff = new TrayDiff();
let scanners: RecentScanner[] = [];
let stoppedBecause: string | null = null;
const policy = new NotificationPolicy();
const timers: NodeJS.Timeout[] = [];

async function start(): Promise<void> {
  hardenSession(session.defaultSession);
  preferences = await openPreferences({ cwd: app.getPath('userData'), onReset: (movedTo, reason) => log(`preferences were invalid (${reason}); moved to ${movedTo}`) });
  supervisor = new HelperSupervisor({ socketPath: SOCKET_PATH, log });
  registerIpc();

  tray = new Tray(trayImage('unreachable'));
  // Linux shows the context menu on any click and emits no 'click'; Windows shows it on a
  // right click; on macOS a context menu would take the left click too, so it is popped up
  // by hand on a right click instead of being set.
  tray.on('click', () => openWindow('dashboard'));
  if (MENU_ON_RIGHT_CLICK) tray.on('right-click', () => trayMenu !== null && tray?.popUpContextMenu(trayMenu));
  supervisor.onState((state) => {
    broadcast('onHelperState', state);
    stoppedBecause = null;
    updateTray();
    // Not running: the tray says why it stopped, as systemd tells it.
    if (state.kind === 'unreachable' && state.reason === 'not-running') {
      void serviceStopReason().then((why) => {
        if (supervisor.state === state) stoppedBecause = why;
        updateTray();
      });
    }
  });
  supervisor.onEvent((event) => {
    scanners = recordScannerEvent(scanners, event);
    broadcast('onEvent', event);
    for (const request of policy.onEvent(event, Date.now(), preferences.get())) showNotification(request);
    updateTray();
  });
  // One notification per scan, from the helper's scan records (main/notification-policy.ts).
  supervisor.onScan((record) => {
    broadcast('onScan', record);
    for (const request of policy.onRecord(record, Date.now(), preferences.get())) showNotification(request);
  });
  preferences.onChange(() => updateTray());
  // The policy shows bursts once their window has passed; relative times and the alert
  // icon age on their own. Both need a clock tick, not an event.
  timers.push(setInterval(() => policy.tick(Date.now(), preferences.get()).forEach(showNotification), 1_000));
  // A pause or resume behind the app's back (portsentryctl) arrives as the helper's
  // protection push (helper-supervisor.ts); this tick only ages the tray's relative times.
  timers.push(setInterval(() => updateTray(), 5_000));
  app.on('before-quit', () => {
    timers.forEach(clearInterval);
    supervisor.stop();
  });
  supervisor.start();
  updateTray();
  await openDashboardIfNeeded();
}

/** First launch, or no tray to click (stock GNOME): the dashboard with its first-run view opens by itself. */
async function openDashboardIfNeeded(): Promise<void> {
  const marker = join(app.getPath('userData'), 'first-run-done');
  const firstRun = !existsSync(marker);
  const tray = await trayAvailable(process.platform, async (name) => (await sharedDbusNotifier())?.nameHasOwner(name) ?? false);
  if (shouldOpenDashboardAtStart({ firstRun, trayAvailable: tray })) openWindow('dashboard');
  if (firstRun) await writeFile(marker, `${new Date().toISOString()}\n`).catch((error: unknown) => log(`cannot write ${marker}: ${String(error)}`));
}

/** Main's own answers to the renderer (the requests shared/ipc-schema.ts does not forward to the helper). */
const networkOwners = NetworkOwners.shipped();
const localHandlers: LocalHandlers = {
  lookupNetworks: (addresses) => networkOwners.lookup(addresses),
  getPreferences: () => preferences.get(),
  setPreferences: async (changes: PreferenceChanges) => {
    const next = preferences.set(changes);
    await applyLoginItem(next.startAtLogin);
    return next;
  },
  copyAddress: (address) => clipboard.writeText(address),
  helperSetup: async () => diagnoseHelper(await gatherSetupFacts(supervisor.state, installerPath())),
  fixHelper: (action) =>
    fixHelper(action, {
      facts: () => gatherSetupFacts(supervisor.state, installerPath()),
      ask: async (text) => (await dialog.showMessageBox({ type: 'warning', message: text.message, detail: text.detail, buttons: [...text.buttons], defaultId: 0, cancelId: 0, noLink: true })).response,
      run: (argv) => new Promise<void>((resolve, reject) => execFile(argv[0]!, argv.slice(1), (error) => (error ? reject(error) : resolve()))),
      retry: () => supervisor.retryNow(),
    }),
};

function installerPath(): string | undefined {
  return typeof process.resourcesPath === 'string' ? join(process.resourcesPath, 'install-helper.sh') : undefined;
}

function registerIpc(): void {
  registerIpcHandlers(ipcMain, { isTrustedSender: (url) => isTrustedSender(url, RENDERER_DIR), helper: supervisor, local: localHandlers });
}

function updateTray(): void {
  if (tray === null) return;
  const model = trayModel({ helper: supervisor.state, scanners, preferences: preferences.get(), now: Date.now(), stoppedBecause });
  // Only what changed: rebuilding a menu closes it if it is open (Linux), and a flood calls this per event.
  const update = trayDiff.next(model);
  if (update.icon !== undefined) tray.setImage(trayImage(update.icon));
  if (update.tooltip !== undefined) tray.setToolTip(update.tooltip);
  if (update.menu !== undefined) {
    trayMenu = Menu.buildFromTemplate(update.menu.map(toMenuItem));
    if (!MENU_ON_RIGHT_CLICK) tray.setContextMenu(trayMenu);
  }
}

function toMenuItem(item: TrayMenuItem): MenuItemConstructorOptions {
  if (item.type === 'separator') return { type: 'separator' };
  const action = item.action;
  return {
    label: item.label,
    enabled: item.enabled,
    ...(item.checked === undefined ? { type: 'normal' as const } : { type: 'checkbox' as const, checked: item.checked }),
    ...(action === undefined ? {} : { click: () => void runTrayAction(action) }),
  };
}

async function runTrayAction(action: TrayAction): Promise<void> {
  try {
    switch (action.id) {
      case 'block':
        await supervisor.call('block', { address: action.address, reason: 'blocked from the tray' });
        break;
      case 'unblock':
        await supervisor.call('unblock', { address: action.address, reason: 'unblocked from the tray' });
        break;
      case 'pause':
        await supervisor.call('pause', action.durationSeconds === undefined ? {} : { durationSeconds: action.durationSeconds });
        break;
      case 'resume':
        await supervisor.call('resume', {});
        break;
      case 'open-dashboard':
        openWindow('dashboard');
        break;
      case 'open-settings':
        openWindow('settings');
        break;
      case 'set-start-at-login':
        preferences.set({ startAtLogin: action.enabled });
        await applyLoginItem(action.enabled);
        break;
      case 'install-helper':
        await installHelper();
        break;
      case 'quit':
        app.quit();
        break;
    }
  } catch (error) {
    dialog.showErrorBox('PortSentry', toApiError(error).message);
  }
  updateTray();
}

async function applyLoginItem(enabled: boolean): Promise<void> {
  // From an AppImage, execPath is a temporary mount; autostartCommand uses $APPIMAGE then.
  if (process.platform === 'linux') await setLinuxAutostart(enabled, autostartCommand(process.execPath, process.argv.slice(1)));
  else app.setLoginItemSettings({ openAtLogin: enabled });
}

async function installHelper(): Promise<void> {
  const plan = await planHelperInstall({ installer: installerPath() ?? '' });
  if (plan.kind === 'unavailable') {
    await dialog.showMessageBox({ type: 'info', message: 'The PortSentry helper is not installed.', detail: plan.message });
    return;
  }
  if (!(await graphicalElevation())) {
    // No pkexec (or kdesudo): nothing can ask for the password here; the user runs the same argv with sudo.
    const command = `sudo ${shellCommand(privilegedArgv(plan))}`;
    const { response } = await dialog.showMessageBox({
      type: 'info',
      message: 'No graphical password prompt (pkexec) is installed.',
      detail: `Run this in a terminal as a user who may use sudo:\n\n${command}`,
      buttons: ['Close', 'Copy command'],
      defaultId: 1,
      cancelId: 0,
      noLink: true,
    });
    if (response === 1) clipboard.writeText(command);
    return;
  }
  const text = consentText(plan);
  const { response } = await dialog.showMessageBox({ type: 'warning', message: text.message, detail: text.detail, buttons: [...text.buttons], defaultId: 0, cancelId: 0, noLink: true });
  const result = await runPrivileged(consentFromDialog(plan, response));
  if (result.ok) supervisor.retryNow();
  else if (result.reason === 'failed') dialog.showErrorBox('PortSentry', `Could not start the helper: ${result.message}`);
}

function showNotification(request: NotificationRequest): void {
  void raiseNotification(request).then((outcome) => onNotificationOutcome(request, outcome));
}

function onNotificationOutcome(request: NotificationRequest, outcome: NotificationOutcome): Promise<void> {
  return handleNotificationOutcome(request, outcome, { helper: supervisor, openDashboard: (id) => openWindow('dashboard', id), log, show: showNotification });
}

function openWindow(page: Page, focusEventId?: number): void {
  const existing = windows.get(page);
  if (existing !== undefined && !existing.isDestroyed()) {
    if (focusEventId !== undefined) send(existing, 'onFocusEvent', focusEventId);
    existing.show();
    existing.focus();
    return;
  }
  const window = new BrowserWindow({
    width: page === 'dashboard' ? 1100 : 720,
    height: page === 'dashboard' ? 720 : 640,
    title: page === 'dashboard' ? 'PortSentry' : 'PortSentry settings',
    show: false,
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(PRELOAD),
  });
  windows.set(page, window);
  window.on('closed', () => windows.delete(page));
  window.once('ready-to-show', () => window.show());
  window.webContents.once('did-finish-load', () => {
    send(window, 'onHelperState', supervisor.state);
    if (focusEventId !== undefined) send(window, 'onFocusEvent', focusEventId);
  });
  void window.loadFile(join(RENDERER_DIR, `${page}.html`));
}

/** A push of the IPC table to one window, its payload typed by the table. */
function send<K extends NotifyMethod>(window: BrowserWindow, method: K, payload: PayloadOf<K>): void {
  const message = pushMessage(method, payload);
  window.webContents.send(message.channel, message.payload);
}

function broadcast<K extends NotifyMethod>(method: K, payload: PayloadOf<K>): void {
  for (const window of windows.values()) if (!window.isDestroyed()) send(window, method, payload);
}

/** 1x and 2x PNGs (straight alpha); template images on macOS (main/tray-icon-set.ts). */
function trayImage(icon: TrayIcon): Electron.NativeImage {
  const set = trayIconSet(icon, process.platform);
  const image = nativeImage.createEmpty();
  for (const rep of set.representations) {
    image.addRepresentation({ scaleFactor: rep.scaleFactor, width: rep.width, height: rep.height, dataURL: `data:image/png;base64,${rep.png.toString('base64')}` });
  }
  if (set.template) image.setTemplateImage(true);
  return image;
}
