// A stand-in for the `electron` module, for running main/electron/main.ts and the preload in
// tests on machines without the Electron binary. It is NOT Electron: it implements only the
// API surface the glue uses (./surface.ts, picked from electron.d.ts; the glue is compiled
// against it by scripts/check-electron-surface.mjs), each member held to electron.d.ts's
// declaration at compile time (the checks at the end), with windows that are pages of
// Debian's chromium (playwright-core) loading the app's real files over file://, and the real
// preload run in each page. Differences from Electron, by necessity: no context isolation or
// sandbox for the preload (it runs in the page's world with a require() that knows only
// 'electron'), a file-based single-instance lock, dialogs and the tray recorded instead of
// drawn, and chromium started with --allow-file-access-from-files (Electron lets file://
// pages load their own module scripts; plain chromium does not).
// The test drives it through the child-process IPC channel (see handleCommand).

import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type * as Surface from './surface.js';
import type { AppMember, BrowserWindowMember, DialogMember, Differing, Holds, Matches, NativeImageMember, SameConstructor, SessionMember, TrayMember, WebContentsMember } from './surface.js';

// ---------------------------------------------------------------------------------------
// What the harness records, for the test to read.

export interface RecordedImage {
  readonly template: boolean;
  readonly representations: readonly { scaleFactor: number; width: number; height: number; kind: 'png' | 'bitmap' }[];
}
export interface RecordedMenuItem {
  readonly label: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly checked: boolean | null;
  readonly clickable: boolean;
}
export interface HarnessState {
  readonly ready: boolean;
  readonly singleInstanceLock: boolean | null;
  readonly appUserModelId: string | null;
  readonly loginItemSettings: unknown;
  readonly dialogs: readonly { kind: string; title: string; message: string }[];
  /** Every text the glue put on the clipboard, in order. */
  readonly clipboard: readonly string[];
  readonly tray: null | {
    readonly tooltip: string;
    readonly image: RecordedImage | null;
    readonly contextMenu: readonly RecordedMenuItem[] | null;
    readonly setContextMenuCalls: number;
    readonly buildFromTemplateCalls: number;
    readonly poppedUp: readonly RecordedMenuItem[] | null;
    readonly listeners: readonly string[];
  };
  readonly windows: readonly { id: number; url: string; title: string; visible: boolean; destroyed: boolean; preload: string; webPreferences: unknown }[];
  readonly ipcChannels: readonly string[];
  readonly secondInstanceEvents: number;
  readonly refusedByHarness: readonly string[];
}

const record = {
  appUserModelId: null as string | null,
  loginItemSettings: null as unknown,
  dialogs: [] as { kind: string; title: string; message: string }[],
  buildFromTemplateCalls: 0,
  secondInstanceEvents: 0,
  refusedByHarness: [] as string[],
  clipboard: [] as string[],
};

const dialogResponse = Number(process.env.HARNESS_DIALOG_RESPONSE ?? '0');

// ---------------------------------------------------------------------------------------
// nativeImage

/** Width and height from a PNG's IHDR, or null when the bytes are not a PNG. */
function pngSize(png: Buffer): { width: number; height: number } | null {
  if (png.length < 24 || png.toString('latin1', 1, 4) !== 'PNG') return null;
  // Decoding the image data too proves it is a complete PNG, not just a header.
  let offset = 8;
  const idat: Buffer[] = [];
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    if (png.toString('latin1', offset + 4, offset + 8) === 'IDAT') idat.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  inflateSync(Buffer.concat(idat));
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

class HarnessNativeImage implements Pick<Electron.NativeImage, NativeImageMember> {
  readonly representations: { scaleFactor: number; width: number; height: number; kind: 'png' | 'bitmap' }[] = [];
  #template = false;

  addRepresentation(options: Electron.AddRepresentationOptions): void {
    const scaleFactor = options.scaleFactor ?? 1;
    let png: Buffer | null = null;
    if (options.dataURL !== undefined) {
      const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(options.dataURL);
      if (match === null) throw new Error('harness: addRepresentation dataURL must be a base64 PNG');
      png = Buffer.from(match[1]!, 'base64');
    } else if (options.buffer !== undefined) {
      png = options.buffer;
    }
    if (png === null) throw new Error('harness: addRepresentation without image data');
    const size = pngSize(png);
    if (size === null) {
      // Electron would take non-PNG bytes as a raw bitmap of the given size.
      if (options.width === undefined || options.height === undefined || png.length !== options.width * options.height * 4) throw new Error('harness: not a PNG and not a bitmap of the given size');
      this.representations.push({ scaleFactor, width: options.width, height: options.height, kind: 'bitmap' });
      return;
    }
    if ((options.width !== undefined && options.width !== size.width) || (options.height !== undefined && options.height !== size.height))
      throw new Error('harness: PNG size differs from the declared size');
    this.representations.push({ scaleFactor, ...size, kind: 'png' });
  }
  setTemplateImage(option: boolean): void {
    this.#template = option;
  }
  describe(): RecordedImage {
    return { template: this.#template, representations: [...this.representations] };
  }
}

export const nativeImage = {
  createEmpty: (): Electron.NativeImage => new HarnessNativeImage() as unknown as Electron.NativeImage,
} satisfies typeof Surface.nativeImage;

// ---------------------------------------------------------------------------------------
// Menu

class HarnessMenu {
  constructor(readonly template: readonly Electron.MenuItemConstructorOptions[]) {}
  static buildFromTemplate(template: Array<Electron.MenuItemConstructorOptions | Electron.MenuItem>): Electron.Menu {
    record.buildFromTemplateCalls++;
    return new HarnessMenu(template as Electron.MenuItemConstructorOptions[]) as unknown as Electron.Menu;
  }
  describe(): RecordedMenuItem[] {
    return this.template.map((item) => ({
      label: item.label ?? '',
      type: item.type ?? 'normal',
      enabled: item.enabled ?? true,
      checked: item.type === 'checkbox' ? (item.checked ?? false) : null,
      clickable: typeof item.click === 'function',
    }));
  }
  click(pattern: RegExp): string {
    const item = this.template.find((candidate) => pattern.test(candidate.label ?? ''));
    if (item === undefined) throw new Error(`no menu item matches ${pattern}: ${this.template.map((i) => i.label ?? '-').join(' | ')}`);
    // A disabled item cannot be clicked in a real menu.
    if (item.enabled === false) throw new Error(`menu item "${item.label}" is disabled`);
    if (item.click === undefined) throw new Error(`menu item "${item.label}" does nothing`);
    item.click(item as unknown as Electron.MenuItem, undefined, {} as Electron.KeyboardEvent);
    return item.label ?? '';
  }
}

export const Menu = HarnessMenu as typeof Surface.Menu;

// ---------------------------------------------------------------------------------------
// Tray

// Event subscription (on/once) is Node's EventEmitter here as in Electron; its overloads return
// Electron's own class, so they are left out of the member checks (the test checks the events).
let currentTray: HarnessTray | null = null;

class HarnessTray extends EventEmitter implements Pick<Electron.Tray, TrayMember> {
  tooltip = '';
  image: HarnessNativeImage | null;
  contextMenu: HarnessMenu | null = null;
  setContextMenuCalls = 0;
  poppedUp: HarnessMenu | null = null;

  constructor(image: Electron.NativeImage | string, _guid?: string) {
    super();
    if (typeof image === 'string') throw new Error('harness: the glue passes a NativeImage, not a path');
    this.image = image as unknown as HarnessNativeImage;
    currentTray = this;
  }
  setImage(image: Electron.NativeImage | string): void {
    if (typeof image === 'string') throw new Error('harness: the glue passes a NativeImage, not a path');
    this.image = image as unknown as HarnessNativeImage;
  }
  setToolTip(toolTip: string): void {
    this.tooltip = toolTip;
  }
  setContextMenu(menu: Electron.Menu | null): void {
    this.setContextMenuCalls++;
    this.contextMenu = menu as unknown as HarnessMenu | null;
  }
  popUpContextMenu(menu?: Electron.Menu, _position?: Electron.Point): void {
    this.poppedUp = (menu as unknown as HarnessMenu | undefined) ?? this.contextMenu;
  }
}

export const Tray = HarnessTray as unknown as typeof Surface.Tray;

// ---------------------------------------------------------------------------------------
// Browser windows: chromium pages

let browser: Promise<{ browser: Browser; context: BrowserContext }> | null = null;
function chromiumContext(): Promise<{ browser: Browser; context: BrowserContext }> {
  browser ??= (async () => {
    const launched = await chromium.launch({ executablePath: process.env.HARNESS_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--allow-file-access-from-files'] });
    const context = await launched.newContext({ viewport: { width: 1100, height: 720 } });
    return { browser: launched, context };
  })();
  return browser;
}

type IpcHandler = (event: Electron.IpcMainInvokeEvent, ...args: unknown[]) => unknown;
const ipcHandlers = new Map<string, IpcHandler>();

let nextId = 1;
const allWindows: HarnessBrowserWindow[] = [];

class HarnessWebContents extends EventEmitter implements Pick<Electron.WebContents, WebContentsMember> {
  windowOpenHandler: ((details: Electron.HandlerDetails) => Electron.WindowOpenHandlerResponse) | null = null;
  constructor(readonly owner: HarnessBrowserWindow) {
    super();
  }
  send(channel: string, ...args: any[]): void {
    void this.owner.deliver(channel, args);
  }
  setWindowOpenHandler(handler: (details: Electron.HandlerDetails) => Electron.WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }
}

class HarnessBrowserWindow extends EventEmitter implements Pick<Electron.BrowserWindow, BrowserWindowMember> {
  readonly id = nextId++;
  readonly webContents: HarnessWebContents;
  readonly preload: string;
  url = '';
  visible = false;
  destroyed = false;
  #page: Promise<Page>;

  constructor(readonly options: Electron.BrowserWindowConstructorOptions = {}) {
    super();
    this.webContents = new HarnessWebContents(this);
    const preferences = options.webPreferences ?? {};
    this.preload = preferences.preload ?? '';
    if (this.preload !== '' && !existsSync(this.preload)) throw new Error(`harness: preload ${this.preload} does not exist`);
    allWindows.push(this);
    harnessApp.emit('web-contents-created', {}, this.webContents);
    this.#page = chromiumContext().then(async ({ context }) => {
      const page = await context.newPage();
      page.on('close', () => this.markClosed());
      page.on('pageerror', (error) => process.stderr.write(`harness: page error in ${this.url}: ${error.message}\n`));
      await page.exposeBinding('__harnessInvoke', async (source, channel: unknown, args: unknown) => invokeFromPage(this, source.frame.url(), channel, args));
      if (this.preload !== '') await page.addInitScript({ content: preloadScript(readFileSync(this.preload, 'utf8')) });
      return page;
    });
  }

  async loadFile(filePath: string, _options?: Electron.LoadFileOptions): Promise<void> {
    const page = await this.#page;
    this.url = pathToFileURL(filePath).href;
    await page.goto(this.url);
    this.webContents.emit('did-finish-load');
    this.emit('ready-to-show');
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.visible = true;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  markClosed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('closed');
    if (allWindows.every((w) => w.destroyed)) harnessApp.emit('window-all-closed');
  }
  page(): Promise<Page> {
    return this.#page;
  }
  /** webContents.send: what the preload's ipcRenderer.on listeners receive. */
  async deliver(channel: string, args: unknown[]): Promise<void> {
    if (this.destroyed) return;
    const page = await this.#page;
    await page.evaluate(([c, a]) => (globalThis as unknown as { __harnessDeliver?: (c: string, a: unknown[]) => void }).__harnessDeliver?.(c, a), [channel, args] as const).catch(() => undefined);
  }
}

export const BrowserWindow = HarnessBrowserWindow as unknown as typeof Surface.BrowserWindow;

/** ipcRenderer.invoke from a page: the handler sees the sending frame's real URL. */
async function invokeFromPage(window: HarnessBrowserWindow, frameUrl: string, channel: unknown, args: unknown): Promise<unknown> {
  if (typeof channel !== 'string' || !Array.isArray(args)) throw new Error('harness: malformed invoke');
  const handler = ipcHandlers.get(channel);
  if (handler === undefined) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
  const event = { sender: window.webContents, senderFrame: { url: frameUrl }, frameId: 1, processId: 1 } as unknown as Electron.IpcMainInvokeEvent;
  // Electron structured-clones both ways; JSON is the part of that our messages use.
  return JSON.parse(JSON.stringify((await handler(event, ...(JSON.parse(JSON.stringify(args)) as unknown[]))) ?? null)) as unknown;
}

/**
 * The page side: contextBridge and ipcRenderer over the harness bindings, then the preload's
 * CommonJS body with a require() that knows only 'electron' (a sandboxed preload's require
 * also knows a few built-ins; ours uses none).
 */
function preloadScript(source: string): string {
  const renderer = `
    const listeners = new Map();
    globalThis.__harnessDeliver = (channel, args) => { for (const l of [...(listeners.get(channel) || [])]) l({ sender: null }, ...args); };
    const ipcRenderer = {
      invoke: (channel, ...args) => globalThis.__harnessInvoke(channel, args),
      on: (channel, listener) => { if (!listeners.has(channel)) listeners.set(channel, new Set()); listeners.get(channel).add(listener); return ipcRenderer; },
      removeListener: (channel, listener) => { listeners.get(channel)?.delete(listener); return ipcRenderer; },
    };
    const contextBridge = {
      exposeInMainWorld: (key, api) => Object.defineProperty(globalThis, key, { value: Object.freeze({ ...api }), enumerable: true }),
    };
    return { ipcRenderer, contextBridge };`;
  return `(() => {
    if (location.protocol !== 'file:') return;
    const electron = (() => { ${renderer} })();
    const module = { exports: {} };
    const require = (name) => { if (name === 'electron') return electron; throw new Error('module not found: ' + name); };
    (function (require, module, exports, process) {\n${source}\n})(require, module, module.exports, { platform: ${JSON.stringify(process.platform)}, env: {} });
  })();`;
}

// ---------------------------------------------------------------------------------------
// ipcMain, dialog, session

/** ipcMain.on: only electron-store (a dependency of the glue) uses it, for its renderer side, which we do not use. */
const ipcListeners = new Map<string, unknown>();
export const ipcMain = {
  on(channel: string, listener: (event: Electron.IpcMainEvent, ...args: any[]) => void): Electron.IpcMain {
    ipcListeners.set(channel, listener);
    return ipcMain as unknown as Electron.IpcMain;
  },
  handle(channel: string, listener: (event: Electron.IpcMainInvokeEvent, ...args: any[]) => Promise<any> | any): void {
    if (ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    ipcHandlers.set(channel, listener as IpcHandler);
  },
} satisfies typeof Surface.ipcMain;

function showErrorBox(title: string, content: string): void {
  record.dialogs.push({ kind: 'error', title, message: content });
  process.stderr.write(`harness: error box: ${title}: ${content}\n`);
}
// Electron's two forms: with a parent window, and without.
function showMessageBox(window: Electron.BaseWindow, options: Electron.MessageBoxOptions): Promise<Electron.MessageBoxReturnValue>;
function showMessageBox(options: Electron.MessageBoxOptions): Promise<Electron.MessageBoxReturnValue>;
function showMessageBox(windowOrOptions: Electron.BaseWindow | Electron.MessageBoxOptions, maybeOptions?: Electron.MessageBoxOptions): Promise<Electron.MessageBoxReturnValue> {
  const options = (maybeOptions ?? windowOrOptions) as Electron.MessageBoxOptions;
  record.dialogs.push({ kind: options.type ?? 'none', title: options.title ?? '', message: `${options.message}${options.detail === undefined ? '' : `\n${options.detail}`}` });
  return Promise.resolve({ response: dialogResponse, checkboxChecked: false });
}
export const dialog = { showErrorBox, showMessageBox } satisfies typeof Surface.dialog;

type HeadersListener = Parameters<Electron.WebRequest['onHeadersReceived']>[0];
// Electron's two forms: with a URL filter, and without.
function onHeadersReceived(filter: Electron.WebRequestFilter, listener: HeadersListener): void;
function onHeadersReceived(listener: HeadersListener): void;
function onHeadersReceived(filterOrListener: Electron.WebRequestFilter | HeadersListener, listener?: HeadersListener): void {
  sessionHandlers.onHeadersReceived = listener ?? filterOrListener;
}

const sessionHandlers: Record<string, unknown> = {};
const defaultSession = {
  webRequest: { onHeadersReceived },
  setPermissionRequestHandler(handler) {
    sessionHandlers.permissionRequest = handler;
  },
  setPermissionCheckHandler(handler) {
    sessionHandlers.permissionCheck = handler;
  },
  setDevicePermissionHandler(handler) {
    sessionHandlers.devicePermission = handler;
  },
} satisfies Surface.Session;
export const session = { defaultSession } satisfies typeof Surface.session;

// ---------------------------------------------------------------------------------------
// app

const userData = process.env.HARNESS_USER_DATA ?? '';
const LOCK = () => join(userData, 'SingletonLock');
const SOCKET = () => join(userData, 'SingletonSocket');

class HarnessApp extends EventEmitter implements Pick<Electron.App, AppMember> {
  ready = false;
  lock: boolean | null = null;
  #lockServer: Server | null = null;
  #pending: Promise<unknown>[] = [];
  #quitting = false;

  constructor() {
    super();
    // Electron's message loop keeps the process alive until quit or exit, with or without
    // windows, timers or sockets; this timer plays that part.
    setInterval(() => undefined, 1 << 30);
    // Electron emits 'ready' once Chromium is initialised, after the main script ran.
    setImmediate(() => {
      this.ready = true;
      this.emit('ready', {}, {});
    });
  }

  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.once('ready', () => resolve()));
  }

  /** A lock file holding the owner's pid (a dead owner's lock is taken over) and a socket the owner listens on. */
  requestSingleInstanceLock(_additionalData?: Record<any, any>): boolean {
    if (userData === '') throw new Error('harness: HARNESS_USER_DATA is not set');
    // Electron creates the userData directory at start.
    mkdirSync(userData, { recursive: true });
    for (let attempt = 0; attempt < 2 && this.lock === null; attempt++) {
      try {
        const fd = openSync(LOCK(), 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.lock = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number(readFileSync(LOCK(), 'utf8'));
        if (Number.isInteger(owner) && owner > 0 && alive(owner)) this.lock = false;
        else unlinkSync(LOCK());
      }
    }
    if (this.lock === true) {
      process.on('exit', () => releaseLock());
      if (existsSync(SOCKET())) unlinkSync(SOCKET());
      this.#lockServer = createServer((socket) => {
        socket.on('data', () => undefined);
        socket.on('end', () => {
          record.secondInstanceEvents++;
          this.emit('second-instance', {}, [], process.cwd(), {});
        });
      }).listen(SOCKET());
      this.#lockServer.unref();
    } else {
      // Like Electron: the running instance hears of us before we go.
      this.#pending.push(
        new Promise<void>((resolve) => {
          const socket = createConnection(SOCKET(), () => socket.end(JSON.stringify(process.argv)));
          socket.on('close', () => resolve());
          socket.on('error', () => resolve());
        }),
      );
    }
    return this.lock ?? false;
  }

  quit(): void {
    if (this.#quitting) return;
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.#quitting = true;
    this.emit('will-quit', { preventDefault: () => undefined });
    void Promise.all(this.#pending).then(() => this.exit(0));
  }

  exit(exitCode = 0): void {
    process.stderr.write(`harness: app.exit(${exitCode})\n`);
    // playwright kills the chromium it launched when this process exits.
    process.exit(exitCode);
  }

  getVersion(): string {
    return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  }

  getPath(name: Parameters<Electron.App['getPath']>[0]): string {
    if (name !== 'userData') throw new Error(`harness: getPath('${name}') is not used by the app`);
    return userData;
  }

  setLoginItemSettings(settings: Electron.Settings): void {
    record.loginItemSettings = settings;
  }

  setAppUserModelId(id: string): void {
    if (this.ready) record.refusedByHarness.push('setAppUserModelId after ready: toasts already attributed');
    record.appUserModelId = id;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function releaseLock(): void {
  try {
    if (Number(readFileSync(LOCK(), 'utf8')) === process.pid) unlinkSync(LOCK());
  } catch {
    // already gone
  }
}

export const app = new HarnessApp() as unknown as Surface.App;
const harnessApp = app as unknown as HarnessApp;

// The renderer-side modules, for the type checker only (the preload's run in the page, above).
export const contextBridge = undefined as unknown as typeof Surface.contextBridge;
export const ipcRenderer = undefined as unknown as typeof Surface.ipcRenderer;

/** clipboard.writeText: recorded (the test reads what the Copy action put there). */
export const clipboard = {
  writeText(text: string, _type?: 'selection' | 'clipboard'): void {
    record.clipboard.push(text);
  },
} satisfies typeof Surface.clipboard;

export default { app, BrowserWindow, clipboard, dialog, ipcMain, Menu, nativeImage, session, Tray };

/**
 * Each member the harness implements takes and returns exactly what electron.d.ts declares
 * (a member named in an error here differs). `satisfies` and `implements` alone would let a
 * narrower parameter through (method parameters compare bivariantly).
 */
export type HarnessMatchesElectron = [
  Matches<Differing<HarnessApp, Electron.App, AppMember>>,
  Matches<Differing<HarnessTray, Electron.Tray, TrayMember>>,
  Holds<SameConstructor<typeof HarnessTray, typeof Electron.Tray>>,
  Matches<Differing<HarnessBrowserWindow, Electron.BrowserWindow, BrowserWindowMember>>,
  Holds<SameConstructor<typeof HarnessBrowserWindow, typeof Electron.BrowserWindow>>,
  Matches<Differing<HarnessWebContents, Electron.WebContents, WebContentsMember>>,
  Matches<Differing<HarnessNativeImage, Electron.NativeImage, NativeImageMember>>,
  Matches<Differing<typeof nativeImage, typeof Electron.NativeImage, 'createEmpty'>>,
  Matches<Differing<typeof HarnessMenu, typeof Electron.Menu, 'buildFromTemplate'>>,
  Matches<Differing<typeof defaultSession, Electron.Session, SessionMember>>,
  Matches<Differing<typeof defaultSession.webRequest, Electron.WebRequest, 'onHeadersReceived'>>,
  Matches<Differing<typeof dialog, Electron.Dialog, DialogMember>>,
  Matches<Differing<typeof clipboard, Electron.Clipboard, 'writeText'>>,
  Matches<Differing<typeof ipcMain, Electron.IpcMain, 'handle' | 'on'>>,
];

// ---------------------------------------------------------------------------------------
// The test's side: commands over the child-process IPC channel.

export type HarnessCommand =
  | { readonly cmd: 'state' }
  | { readonly cmd: 'click-menu'; readonly label: string; readonly popup?: boolean }
  | { readonly cmd: 'tray-event'; readonly name: 'click' | 'right-click' | 'double-click' }
  | { readonly cmd: 'eval'; readonly page: string; readonly expression: string }
  | { readonly cmd: 'security-handlers' };

export function harnessState(): HarnessState {
  return {
    ready: harnessApp.ready,
    singleInstanceLock: harnessApp.lock,
    appUserModelId: record.appUserModelId,
    loginItemSettings: record.loginItemSettings,
    dialogs: [...record.dialogs],
    clipboard: [...record.clipboard],
    tray:
      currentTray === null
        ? null
        : {
            tooltip: currentTray.tooltip,
            image: currentTray.image?.describe() ?? null,
            contextMenu: currentTray.contextMenu?.describe() ?? null,
            setContextMenuCalls: currentTray.setContextMenuCalls,
            buildFromTemplateCalls: record.buildFromTemplateCalls,
            poppedUp: currentTray.poppedUp?.describe() ?? null,
            listeners: currentTray.eventNames().map(String),
          },
    windows: allWindows.map((w) => ({
      id: w.id,
      url: w.url,
      title: w.options.title ?? '',
      visible: w.visible,
      destroyed: w.destroyed,
      preload: w.preload,
      webPreferences: w.options.webPreferences ?? {},
    })),
    ipcChannels: [...ipcHandlers.keys()],
    secondInstanceEvents: record.secondInstanceEvents,
    refusedByHarness: [...record.refusedByHarness],
  };
}

async function handleCommand(command: HarnessCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'state':
      return harnessState();
    case 'click-menu': {
      const menu = command.popup === true ? currentTray?.poppedUp : currentTray?.contextMenu;
      if (menu === null || menu === undefined) throw new Error('the tray has no menu');
      return menu.click(new RegExp(command.label));
    }
    case 'tray-event':
      if (currentTray === null) throw new Error('no tray');
      currentTray.emit(command.name, {}, {});
      return null;
    case 'eval': {
      const window = [...allWindows].reverse().find((w) => !w.destroyed && w.url.endsWith(command.page));
      if (window === undefined) throw new Error(`no open window shows ${command.page}`);
      const page = await window.page();
      return page.evaluate(command.expression);
    }
    case 'security-handlers': {
      // What the hardening installed, exercised the way Electron would call it.
      const window = allWindows.find((w) => !w.destroyed);
      const denied: Record<string, unknown> = {};
      await new Promise<void>((resolve) =>
        (sessionHandlers.permissionRequest as (c: unknown, p: string, cb: (ok: boolean) => void) => void)({}, 'media', (ok) => ((denied.permissionRequest = ok), resolve())),
      );
      denied.permissionCheck = (sessionHandlers.permissionCheck as () => boolean)();
      denied.devicePermission = (sessionHandlers.devicePermission as () => boolean)();
      await new Promise<void>((resolve) =>
        (sessionHandlers.onHeadersReceived as (d: unknown, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void)(
          { responseHeaders: { 'content-security-policy': ['default-src *'] } },
          (r) => ((denied.headers = r.responseHeaders), resolve()),
        ),
      );
      if (window !== undefined) {
        denied.windowOpen = window.webContents.windowOpenHandler?.({ url: 'https://example.invalid/' } as Electron.HandlerDetails) ?? null;
        let prevented = false;
        window.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://example.invalid/');
        denied.navigationPrevented = prevented;
      }
      return denied;
    }
  }
}

if (typeof process.send === 'function') {
  process.on('message', (message: { id: number; command: HarnessCommand }) => {
    handleCommand(message.command).then(
      (result) => process.send?.({ id: message.id, ok: true, result }),
      (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The IPC channel must not keep a quitting app alive.
  process.channel?.unref();
}
