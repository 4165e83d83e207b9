// The Electron glue (main/electron/main.ts and the preload) executed for real, under the
// electron harness (test/main/electron-harness: a stand-in for the `electron` module typed
// against electron.d.ts, windows as pages of Debian's chromium; NOT Electron itself), against
// a real helper in a lab namespace: the tray's state and every item of its menu, every IPC
// channel from the app's real pages through the real preload (each request, and each push:
// the helper's state, a scan's events, the event a clicked notification points at, with dunst
// as the notification daemon on a private bus), a real nmap scan, Block and Unblock changing
// nftables, start-up failure and the single-instance lock. The macOS and
// Windows branches of the glue run with process.platform set to theirs (HARNESS_PLATFORM):
// that checks the glue's decisions, not those systems.
// Needs root, /usr/bin/chromium, nmap and a build (npm run build).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { APP_USER_MODEL_ID } from '../../main/app-identity.js';
import { INVOKE_CHANNELS, NOTIFY_CHANNELS } from '../../shared/ipc-schema.js';
import { ErrorCode } from '../../shared/protocol/json-rpc.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText, startTcpService } from '../support/helper-config.js';
import { startDesktopSession, type DesktopSession } from '../support/desktop-session.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import type { HarnessState, RecordedMenuItem } from './electron-harness/electron.js';
import { launchApp, type AppProcess } from './electron-harness/launch.js';
import { until, untilValue } from '../support/wait.js';

const run = promisify(execFile);
const TABLE = `psshell${process.pid}`.slice(0, 30);
const SERVICE_PORT = 8080;
const APPIMAGE = '/opt/Applications/PortSentry Desktop-0.1.0.AppImage';

const labels = (menu: readonly RecordedMenuItem[] | null | undefined) => (menu ?? []).map((item) => item.label);
const menuOf = (state: HarnessState) => state.tray?.contextMenu ?? null;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the Electron glue under the harness, against a real helper', { timeout: 240_000 }, () => {
  let lab: Lab<'target' | 'scanner'>;
  let dir: string;
  let socketPath: string;
  let daemon: DaemonProcess;
  let service: ReturnType<Lab['spawn']>;
  let app: AppProcess;
  let userData: string;
  let configHome: string;
  let desktop: DesktopSession;

  const nft = () => blockedSetsText(lab, lab.hosts.target, TABLE);
  const evalIn = (page: string, expression: string) => app.send({ cmd: 'eval', page, expression });

  before(async () => {
    lab = await createLab(['target', 'scanner']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-shell-'));
    socketPath = join(dir, 'run', 'helper.sock');
    await writeFile(join(dir, 'ignore'), '# shell test ignore list\n');
    const conf = join(dir, 'portsentry.conf');
    await writeFile(conf, helperConfigText(dir, { TCP_PORTS: '1,11,15,79,111,143,31337', UDP_PORTS: '1,7,9', NFT_TABLE: TABLE }, '# electron shell test'));
    service = await startTcpService(lab, lab.hosts.target, SERVICE_PORT);
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, '-tcp', '-stcp']);
    await daemon.waitFor('Control socket listening on');
    userData = join(dir, 'user-data');
    configHome = join(dir, 'config-home');
    // Notifications go to dunst on a private session bus (no tray host on it).
    desktop = await startDesktopSession(dir);
    app = launchApp({ userData, socketPath, env: { APPIMAGE, XDG_CONFIG_HOME: configHome, DISPLAY: desktop.env.DISPLAY!, DBUS_SESSION_BUS_ADDRESS: desktop.busAddress } });
  });

  after(async () => {
    await app?.kill();
    await desktop?.stop();
    service?.kill();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('launches: holds the single-instance lock, registers every channel, and the tray shows the armed state', async () => {
    const state = await app.waitFor('the tray says protection is active', (s) => /protection active/.test(s.tray?.tooltip ?? ''));
    assert.equal(state.singleInstanceLock, true);
    assert.deepEqual([...state.ipcChannels].sort(), [...INVOKE_CHANNELS.keys()].sort(), 'one handler per request channel of the IPC table, no more');
    assert.equal(state.appUserModelId, null, 'no AppUserModelID off Windows');
    // The items this test drives (the menu's wording and order are main/tray-model.ts's business).
    for (const item of ['Pause until resumed', 'Open dashboard', 'Settings…', 'Start at login', 'Quit PortSentry']) assert.ok(labels(menuOf(state)).includes(item), item);
    // The icon: PNGs at 1x and 2x (16 and 32 px), not a template image on Linux.
    assert.deepEqual(state.tray?.image, {
      template: false,
      representations: [
        { scaleFactor: 1, width: 16, height: 16, kind: 'png' },
        { scaleFactor: 2, width: 32, height: 32, kind: 'png' },
      ],
    });
    assert.ok(state.tray?.listeners.includes('click'));
  });

  it('rebuilds the tray menu only when it changes', async () => {
    // Open a page and change a preference that the menu does not show, 20 times: each change
    // re-renders the tray (preferences.onChange), none may rebuild its menu.
    await app.send({ cmd: 'click-menu', label: '^Open dashboard$' });
    await until('the dashboard has its API', async () => (await evalIn('dashboard.html', 'typeof window.portsentry').catch(() => null)) === 'object');
    const before = (await app.state()).tray!;
    for (let i = 0; i < 20; i++) await evalIn('dashboard.html', `window.portsentry.setPreferences({ theme: ${i % 2 === 0 ? "'dark'" : "'light'"} })`);
    const after = (await app.state()).tray!;
    assert.equal(after.buildFromTemplateCalls, before.buildFromTemplateCalls, 'no menu was rebuilt');
    assert.equal(after.setContextMenuCalls, before.setContextMenuCalls);
  });

  it('a real nmap scan shows up in the tray; its Unblock and Block items change nftables', async () => {
    const { target, scanner } = lab.hosts;
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), true);
    // The dashboard (opened above) records the pushes it gets from here on.
    await evalIn(
      'dashboard.html',
      'window.__pushed = { events: [], focus: [], scans: [] }; window.portsentry.onEvent((e) => window.__pushed.events.push(e)); window.portsentry.onFocusEvent((id) => window.__pushed.focus.push(id)); window.portsentry.onScan((r) => window.__pushed.scans.push(r)); true',
    );
    await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79', target.v4]);
    const who = escape(scanner.v4);
    const state = await app.waitFor('the tray lists the scanner as blocked', (s) => labels(menuOf(s)).some((l) => new RegExp(`^Unblock ${who}\\b`).test(l)));
    assert.match(state.tray!.tooltip, new RegExp(`by ${who} \\(blocked\\)`));
    assert.ok((await nft()).includes(scanner.v4), 'the helper blocked it');

    await app.send({ cmd: 'click-menu', label: `^Unblock ${who}\\b` });
    await until("the tray's Unblock lifted the block", async () => !(await nft()).includes(scanner.v4));
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), true, 'the scanner reaches the service again');
    await app.waitFor('the item turned into Block', (s) => labels(menuOf(s)).some((l) => new RegExp(`^Block ${who}\\b`).test(l)));

    await app.send({ cmd: 'click-menu', label: `^Block ${who}\\b` });
    await until("the tray's Block blocked it again", async () => (await nft()).includes(scanner.v4));
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), false);
    await app.waitFor('the item is Unblock again', (s) => labels(menuOf(s)).some((l) => new RegExp(`^Unblock ${who}\\b`).test(l)));
    // The same scan reached the open dashboard as pushes (onEvent): the probes, the tray's unblock and block.
    const pushed = (await evalIn('dashboard.html', 'window.__pushed.events')) as Array<{ type: string; source?: string; address?: string; change?: string }>;
    assert.ok(
      pushed.some((e) => e.type === 'scan' && e.source === scanner.v4),
      JSON.stringify(pushed).slice(0, 2000),
    );
    assert.deepEqual(
      pushed
        .filter((e) => e.type === 'block' && e.address === scanner.v4)
        .map((e) => e.change)
        .slice(-2),
      ['removed', 'added'],
      'the Unblock and Block from the tray',
    );
    // And its scan record (onScan), as the helper wrote it.
    await until('the scan record reached the dashboard', async () => ((await evalIn('dashboard.html', 'window.__pushed.scans')) as Array<{ scanner: string }>).some((r) => r.scanner === scanner.v4));
  });

  it("the scan's notification, clicked in the notification daemon, points the dashboard at its event (onFocusEvent)", async () => {
    const { scanner } = lab.hosts;
    await until('dunst shows the notification', async () => Number(await desktop.dunstctl(['count', 'displayed'])) >= 1);
    // dunst's default action on the newest notification: a click.
    await desktop.dunstctl(['action', '0']);
    const focus = await untilValue('the dashboard was told which event', async () => {
      const ids = (await evalIn('dashboard.html', 'window.__pushed.focus')) as number[];
      return ids.length > 0 ? ids : undefined;
    });
    const events = (await evalIn('dashboard.html', 'window.portsentry.listEvents({ limit: 100 })')) as { events: Array<{ id: number; type: string; source?: string }> };
    const event = events.events.find((e) => e.id === focus[0]);
    assert.equal(event?.type, 'scan', JSON.stringify(event));
    assert.equal(event?.source, scanner.v4, 'the event of the scan the notification was about');
    const state = await app.state();
    assert.equal(state.windows.filter((w) => !w.destroyed && w.url.endsWith('/dashboard.html')).length, 1, 'the open dashboard, not a second one');
  });

  it('Pause and Resume in the tray pause the helper, for a while or until resumed', async () => {
    for (const [label, seconds] of [
      ['Pause for 15 minutes', 900],
      ['Pause for 1 hour', 3600],
    ] as const) {
      const clicked = Date.now();
      await app.send({ cmd: 'click-menu', label: `^${label}$` });
      await app.waitFor(`the tray shows the pause (${label})`, (s) => labels(menuOf(s)).includes('Resume protection'));
      const status = (await evalIn('dashboard.html', 'window.portsentry.status()')) as { paused: boolean; pausedUntil?: number | null };
      assert.equal(status.paused, true, label);
      const until = status.pausedUntil ?? 0;
      assert.ok(until >= clicked + seconds * 1000 - 5_000 && until <= Date.now() + seconds * 1000 + 5_000, `${label}: the helper resumes by itself in ${seconds} s (pausedUntil ${until})`);
      await app.send({ cmd: 'click-menu', label: '^Resume protection$' });
      await app.waitFor('the tray shows active', (s) => labels(menuOf(s)).includes(label));
    }
    await app.send({ cmd: 'click-menu', label: '^Pause until resumed$' });
    await app.waitFor('the tray shows paused', (s) => labels(menuOf(s)).includes('Resume protection') && /paused/.test(s.tray?.tooltip ?? ''));
    assert.equal(((await evalIn('dashboard.html', 'window.portsentry.status()')) as { paused: boolean }).paused, true, 'the helper itself is paused');
    await app.send({ cmd: 'click-menu', label: '^Resume protection$' });
    await app.waitFor('the tray shows active', (s) => labels(menuOf(s)).includes('Pause until resumed'));
  });

  it('Settings opens the settings page, whose every API call crosses the real preload to the helper', async () => {
    await app.send({ cmd: 'click-menu', label: '^Settings' });
    const state = await app.waitFor('the settings window is shown', (s) => s.windows.some((w) => w.url.endsWith('/settings.html') && w.visible));
    const window = state.windows.find((w) => w.url.endsWith('/settings.html'))!;
    assert.equal(window.url.startsWith('file:///'), true);
    assert.deepEqual(window.webPreferences, {
      preload: window.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    });
    await until('the settings page shows the connected helper (a push from main through the preload)', async () =>
      String(await evalIn('settings.html', "document.querySelector('#helper-banner')?.className ?? ''")).includes('banner-connected'),
    );
    // Every request method of window.portsentry, from the page, through preload and main.
    const results = (await evalIn(
      'settings.html',
      `(async () => {
        const api = window.portsentry;
        const out = {};
        const attempt = async (name, call) => { try { out[name] = { ok: true, value: await call() }; } catch (error) { out[name] = { ok: false, error }; } };
        await attempt('status', () => api.status());
        await attempt('listEvents', () => api.listEvents({ limit: 5 }));
        await attempt('listBlocks', () => api.listBlocks());
        await attempt('block', () => api.block({ address: '198.18.77.7', reason: 'from the settings page' }));
        await attempt('unblock', () => api.unblock({ address: '198.18.77.7' }));
        await attempt('addIgnored', () => api.addIgnored({ entry: '198.18.99.0/24', comment: 'shell test' }));
        await attempt('listIgnored', () => api.listIgnored());
        await attempt('removeIgnored', () => api.removeIgnored({ entry: '198.18.99.0/24' }));
        await attempt('undoIgnored', () => api.undoIgnored({ entry: '198.18.99.0/24', reblock: [] }));
        await attempt('getConfig', () => api.getConfig());
        await attempt('setConfig', () => api.setConfig({ changes: { SCAN_TRIGGER: '0' } }));
        await attempt('pause', () => api.pause());
        await attempt('resume', () => api.resume());
        await attempt('getPreferences', () => api.getPreferences());
        await attempt('setPreferences', () => api.setPreferences({ notifications: 'blocks-only' }));
        await attempt('stats', () => api.stats());
        await attempt('copyAddress', () => api.copyAddress('198.18.77.7'));
        await attempt('helperSetup', () => api.helperSetup());
        await attempt('fixHelper', () => api.fixHelper('retry'));
        await attempt('listScans', () => api.listScans({ limit: 5 }));
        await attempt('lookupNetworks', () => api.lookupNetworks(['198.18.77.7']));
        await attempt('badCopy', () => api.copyAddress('$(reboot)'));
        await attempt('badBlock', () => api.block({ address: 'not an address' }));
        await attempt('protected', () => api.block({ address: '127.0.0.1' }));
        return out;
      })()`,
    )) as Record<string, { ok: boolean; value?: unknown; error?: { code: number; message: string } }>;
    for (const name of [
      'status',
      'listEvents',
      'listBlocks',
      'block',
      'unblock',
      'addIgnored',
      'listIgnored',
      'removeIgnored',
      'undoIgnored',
      'getConfig',
      'setConfig',
      'pause',
      'resume',
      'getPreferences',
      'setPreferences',
      'stats',
      'copyAddress',
      'helperSetup',
      'fixHelper',
      'listScans',
      'lookupNetworks',
    ]) {
      assert.equal(results[name]?.ok, true, `${name}: ${JSON.stringify(results[name])}`);
    }
    const called = new Set(Object.keys(results).filter((name) => results[name]?.ok === true));
    assert.deepEqual(
      [...INVOKE_CHANNELS.values()].filter((method) => !called.has(method)),
      [],
      'every request of the IPC table was made from the page',
    );
    assert.deepEqual([...NOTIFY_CHANNELS.keys()].sort(), ['onEvent', 'onFocusEvent', 'onHelperState', 'onScan'], 'each push has its check in this file');
    assert.deepEqual((await app.state()).clipboard, ['198.18.77.7'], "Copy put the address on main's clipboard, and the command was refused");
    assert.equal(results.badCopy?.error?.code, ErrorCode.INVALID_PARAMS);
    assert.equal((results.helperSetup?.value as { state: string }).state, 'running');
    // The helper runs: main gathered the facts and refused a fix nothing needs.
    assert.deepEqual(results.fixHelper?.value, { done: false, message: 'Nothing was done: "retry" is not what the helper needs now.' });
    assert.ok(typeof (results.stats?.value as Record<string, unknown>) === 'object');
    assert.ok(JSON.stringify(results.listIgnored?.value).includes('198.18.99.0/24'), 'the ignore entry reached the helper');
    assert.equal((results.setPreferences?.value as { notifications: string }).notifications, 'blocks-only');
    assert.equal(results.badBlock?.ok, false);
    assert.equal(results.badBlock?.error?.code, ErrorCode.INVALID_PARAMS, 'main refused it before the helper');
    assert.equal(results.protected?.ok, false, 'the helper refuses its own loopback');
    assert.ok(!(await nft()).includes('198.18.77.7'), 'blocked then unblocked from the page');
    // What the hardening installed answers as it must.
    const handlers = (await app.send({ cmd: 'security-handlers' })) as Record<string, unknown>;
    assert.deepEqual(
      { ...handlers, headers: undefined },
      { permissionRequest: false, permissionCheck: false, devicePermission: false, headers: undefined, windowOpen: { action: 'deny' }, navigationPrevented: true },
    );
    assert.match(JSON.stringify(handlers.headers), /default-src 'self'/);
  });

  it('a second launch hands over to the first (dashboard focused, one window) and quits', async () => {
    const windowsBefore = (await app.state()).windows.filter((w) => !w.destroyed).length;
    const second = launchApp({ userData, socketPath });
    const { code } = await second.exited;
    assert.equal(code, 0, second.output());
    const state = await app.waitFor('the first instance heard of it', (s) => s.secondInstanceEvents === 1);
    assert.equal(state.windows.filter((w) => !w.destroyed).length, windowsBefore, 'the existing dashboard was reused');
  });

  it('Start at login from an AppImage starts the AppImage file, not its temporary mount', async () => {
    await app.send({ cmd: 'click-menu', label: '^Start at login$' });
    const file = join(configHome, 'autostart', 'portsentry-desktop.desktop');
    await until('the autostart entry exists', () => existsSync(file));
    const exec = /^Exec=(.*)$/m.exec(await readFile(file, 'utf8'))?.[1] ?? '';
    assert.ok(exec.startsWith(`"${APPIMAGE}"`), exec);
    assert.ok(!exec.includes(process.execPath), exec);
    await app.waitFor('the item is checked', (s) => menuOf(s)?.find((i) => i.label === 'Start at login')?.checked === true);
    await app.send({ cmd: 'click-menu', label: '^Start at login$' });
    await until('the autostart entry is gone', () => !existsSync(file));
  });

  it('Quit ends the app and releases the lock', async () => {
    // The app may be gone before the harness can answer the click.
    void app.send({ cmd: 'click-menu', label: '^Quit PortSentry$' }).catch(() => undefined);
    const { code } = await app.exited;
    assert.equal(code, 0);
    assert.equal(existsSync(join(userData, 'SingletonLock')), false);
  });
});

describe('the Electron glue when start-up fails', { timeout: 120_000 }, () => {
  it('shows the error, exits non-zero, and the next launch gets the lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portsentry-shell-fail-'));
    const userData = join(dir, 'user-data');
    const preferences = join(userData, 'preferences.json');
    try {
      // An unreadable preferences file that cannot be moved aside either (immutable, even for root).
      await run('mkdir', ['-p', userData]);
      await writeFile(preferences, '{ not json');
      await run('chattr', ['+i', preferences]);
      const failing = launchApp({ userData, socketPath: join(dir, 'none.sock') });
      const outcome = await Promise.race([failing.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
      await failing.kill();
      assert.notEqual(outcome, 'still running', `the app kept running without a tray:\n${failing.output()}`);
      assert.equal((outcome as { code: number }).code, 1, failing.output());
      assert.match(failing.output(), /error box: PortSentry could not start: .*rename/, 'the user is shown why');
      assert.equal(existsSync(join(userData, 'SingletonLock')), false, 'the lock is released');

      await run('chattr', ['-i', preferences]);
      const next = launchApp({ userData, socketPath: join(dir, 'none.sock') });
      try {
        const state = await next.waitFor('the next launch has its tray', (s) => s.tray !== null);
        assert.equal(state.singleInstanceLock, true);
        assert.equal(state.dialogs.length, 0);
      } finally {
        await next.kill();
      }
    } finally {
      await run('chattr', ['-i', preferences]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the Electron glue without a helper', { timeout: 120_000 }, () => {
  it('offers to install or start the helper; its item answers with a dialog (here: no unit, no bundled installer)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portsentry-shell-nohelper-'));
    // Button 0 is Cancel in the consent dialog: nothing may run.
    const app = launchApp({ userData: join(dir, 'ud'), socketPath: join(dir, 'nobody-listens.sock'), dialogResponse: 0 });
    try {
      const state = await app.waitFor('the tray says the helper is not running', (s) => labels(menuOf(s)).some((l) => /^Install or start the helper/.test(l)));
      assert.match(state.tray!.tooltip, /not running/);
      assert.equal(menuOf(state)?.find((i) => i.label === 'Pause until resumed')?.enabled, false, 'nothing to pause');
      await app.send({ cmd: 'click-menu', label: '^Install or start the helper' });
      const after = await app.waitFor('a dialog explains', (s) => s.dialogs.length > 0);
      // Either "not installed" (no unit, no bundled installer: this machine) or the consent text.
      assert.match(after.dialogs[0]!.message, /helper is not installed|needs administrator rights/);
      assert.equal(after.dialogs.filter((d) => d.kind === 'error').length, 0);
    } finally {
      await app.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the glue's macOS and Windows branches (process.platform set, under the harness)", { timeout: 120_000 }, () => {
  it('macOS: template icons, a left click opens the dashboard, the menu comes on a right click', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portsentry-shell-mac-'));
    const app = launchApp({ userData: join(dir, 'ud'), socketPath: join(dir, 'none.sock'), platform: 'darwin' });
    try {
      let state = await app.waitFor('the tray is there', (s) => s.tray !== null && s.tray.buildFromTemplateCalls > 0);
      assert.equal(state.tray?.image?.template, true, 'a template image');
      assert.deepEqual(
        state.tray?.image?.representations.map((r) => [r.scaleFactor, r.width]),
        [
          [1, 16],
          [2, 32],
        ],
      );
      assert.equal(state.tray?.setContextMenuCalls, 0, 'no context menu set: it would take the left click');
      await app.send({ cmd: 'tray-event', name: 'click' });
      state = await app.waitFor('the dashboard opened', (s) => s.windows.some((w) => w.url.endsWith('/dashboard.html') && w.visible));
      await app.send({ cmd: 'tray-event', name: 'right-click' });
      state = await app.waitFor('the menu popped up', (s) => s.tray?.poppedUp !== null);
      assert.ok(labels(state.tray?.poppedUp).includes('Quit PortSentry'));
      await app.send({ cmd: 'click-menu', label: '^Settings', popup: true });
      await app.waitFor('its items work', (s) => s.windows.some((w) => w.url.endsWith('/settings.html')));
    } finally {
      await app.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Windows: the AppUserModelID is set before the app is ready, and the tray keeps its context menu', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portsentry-shell-win-'));
    const app = launchApp({ userData: join(dir, 'ud'), socketPath: join(dir, 'none.sock'), platform: 'win32' });
    try {
      const state = await app.waitFor('the tray is there', (s) => s.tray !== null && s.tray.contextMenu !== null);
      assert.equal(state.appUserModelId, APP_USER_MODEL_ID);
      assert.deepEqual(state.refusedByHarness, [], 'set before ready');
      assert.equal(state.tray?.image?.template, false);
      assert.ok((state.tray?.setContextMenuCalls ?? 0) >= 1);
    } finally {
      await app.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
