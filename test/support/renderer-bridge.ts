// Runs the renderer in plain Chromium against a REAL helper. A small HTTP server on
// 127.0.0.1 serves dist/renderer and exposes each PortSentryApi method as POST /api/<name>,
// forwarded through HelperClient to the helper's control socket; events, helper states and
// focus requests flow to the page as server-sent events on GET /api/stream. install(page)
// injects a window.portsentry built on fetch/EventSource, so the page code is exactly what
// runs in Electron behind the preload. The GUI preferences (electron-store in the app) live
// in memory here.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { APP_UNAVAILABLE, type GuiPreferences, type HelperFix, type HelperFixResult, type HelperSetup, type HelperState, type PortSentryApi } from '../../shared/desktop-api.js';
import type { MethodName } from '../../shared/protocol/methods.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { HelperClient, HelperError, HelperUnavailableError } from '../../shared/rpc/helper-client.js';

export const RENDERER_ROOT = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** The API's request methods: everything but the three listener registrations. */
type RequestName = Exclude<keyof PortSentryApi, 'onEvent' | 'onHelperState' | 'onFocusEvent'>;

/** Each request method's helper method (null: answered by the bridge itself). */
const HELPER_METHODS: Readonly<Record<RequestName, MethodName | null>> = {
  status: 'status',
  listEvents: 'events.list',
  listBlocks: 'blocks.list',
  block: 'block',
  unblock: 'unblock',
  listIgnored: 'ignore.list',
  addIgnored: 'ignore.add',
  removeIgnored: 'ignore.remove',
  getConfig: 'config.get',
  setConfig: 'config.set',
  pause: 'pause',
  resume: 'resume',
  stats: 'stats',
  getPreferences: null,
  setPreferences: null,
  copyAddress: null,
  helperSetup: null,
  fixHelper: null,
};

export interface BridgeCall {
  readonly method: RequestName;
  readonly args: readonly unknown[];
}

export interface RendererBridge {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Every API request a page made, in order: what the renderer really sent. */
  readonly calls: BridgeCall[];
  readonly preferences: GuiPreferences;
  /** Gives a page its window.portsentry; call before page.goto. */
  install(page: Page): Promise<void>;
  /** Addresses the page copied (main's clipboard in the app). */
  readonly copied: string[];
  /** Fixes the page asked for, in order. */
  readonly fixes: HelperFix[];
  /** What main does when a notification is clicked. */
  focusEvent(id: number): void;
  close(): Promise<void>;
}

export const DEFAULT_PREFERENCES: GuiPreferences = { theme: 'system', notifications: 'all', quietStart: '22:00', quietEnd: '22:00', startAtLogin: false };

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

export interface BridgeOptions {
  readonly socketPath: string;
  readonly root?: string;
  readonly preferences?: GuiPreferences;
  /** The first-run view's facts (main/helper-setup.ts in the app); default: from the connection state. */
  readonly setup?: (state: HelperState) => HelperSetup | Promise<HelperSetup>;
  /** What a fix does here (main runs it after consent in the app); default: nothing, reported as done. */
  readonly fix?: (action: HelperFix) => Promise<HelperFixResult>;
}

export async function startRendererBridge(options: BridgeOptions): Promise<RendererBridge> {
  const copied: string[] = [];
  const fixes: HelperFix[] = [];
  const root = options.root ?? RENDERER_ROOT;
  const calls: BridgeCall[] = [];
  let preferences: GuiPreferences = { ...(options.preferences ?? DEFAULT_PREFERENCES) };
  let state: HelperState = { kind: 'connecting' };
  let client: HelperClient | null = null;
  let connecting: Promise<HelperClient> | null = null;
  const streams = new Set<ServerResponse>();

  const broadcast = (name: 'event' | 'state' | 'focus', data: unknown) => {
    for (const stream of streams) stream.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const setState = (next: HelperState) => {
    state = next;
    broadcast('state', next);
  };

  /** One connection, subscribed to events, re-made on the next request after it breaks. */
  const helper = (): Promise<HelperClient> => {
    if (client !== null) return Promise.resolve(client);
    connecting ??= (async () => {
      try {
        const fresh = await HelperClient.connect(options.socketPath, { timeoutMs: 5000 });
        fresh.onClose((error) => {
          if (client === fresh) client = null;
          const reason = error instanceof HelperUnavailableError ? error.reason : 'disconnected';
          setState({ kind: 'unreachable', reason, message: error.message });
        });
        await fresh.subscribe((event: StoredEvent) => broadcast('event', event));
        const status = await fresh.call('status', {});
        client = fresh;
        setState({ kind: 'connected', paused: status.paused, pausedUntil: status.pausedUntil ?? null });
        return fresh;
      } catch (error) {
        const reason = error instanceof HelperUnavailableError ? error.reason : 'protocol';
        setState({ kind: 'unreachable', reason, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        connecting = null;
      }
    })();
    return connecting;
  };

  const answer = async (method: RequestName, args: readonly unknown[]): Promise<unknown> => {
    if (method === 'getPreferences') return preferences;
    if (method === 'copyAddress') {
      copied.push(String(args[0]));
      return undefined;
    }
    if (method === 'helperSetup') return (options.setup ?? defaultSetup)(state);
    if (method === 'fixHelper') {
      fixes.push(args[0] as HelperFix);
      const result = await (options.fix ?? (async () => ({ done: true as const, message: 'done' })))(args[0] as HelperFix);
      // Like main: after a fix, try the helper again at once.
      client?.close();
      client = null;
      await helper().catch(() => undefined);
      return result;
    }
    if (method === 'setPreferences') {
      preferences = { ...preferences, ...(args[0] as Partial<GuiPreferences>) };
      return preferences;
    }
    const helperMethod = HELPER_METHODS[method];
    if (helperMethod === null) throw new Error(`unhandled ${method}`);
    const connection = await helper();
    const result = await connection.call(helperMethod, (args[0] ?? {}) as never);
    if (method === 'pause' || method === 'resume') setState({ kind: 'connected', paused: (result as { paused: boolean }).paused, pausedUntil: (result as { pausedUntil?: number | null }).pausedUntil ?? null });
    return result;
  };

  const serveApi = async (name: string, request: IncomingMessage, response: ServerResponse) => {
    if (!Object.hasOwn(HELPER_METHODS, name) || request.method !== 'POST') {
      response.writeHead(404).end();
      return;
    }
    const method = name as RequestName;
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const args = body === '' ? [] : (JSON.parse(body) as unknown[]);
    calls.push({ method, args });
    try {
      const result = await answer(method, args);
      sendJson(response, { ok: true, result });
    } catch (error) {
      // Errors cross the bridge as the plain { code, message } objects of desktop-api.ts.
      const code = error instanceof HelperError ? error.code : APP_UNAVAILABLE;
      sendJson(response, { ok: false, error: { code, message: error instanceof Error ? error.message : String(error) } });
    }
  };

  const serveFile = async (path: string, response: ServerResponse) => {
    const relative = normalize(decodeURIComponent(path === '/' ? '/dashboard.html' : path)).replace(/^([/\\])+/, '');
    const file = join(root, relative);
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const content = await readFile(file);
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'cache-control': 'no-store' });
      response.end(content);
    } catch {
      response.writeHead(404).end();
    }
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/api/stream') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
      streams.add(response);
      request.on('close', () => streams.delete(response));
      // Connect now, so a page learns the helper's state without making a request first.
      helper().catch(() => undefined);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      serveApi(url.pathname.slice('/api/'.length), request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500);
        response.end(String(error));
      });
      return;
    }
    void serveFile(url.pathname, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    calls,
    copied,
    fixes,
    get preferences() {
      return preferences;
    },
    install: async (page) => {
      await page.addInitScript(installPortSentryShim);
    },
    focusEvent: (id) => broadcast('focus', id),
    close: async () => {
      client?.close();
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The bridge's stand-in for main/helper-setup.ts when a test gives none: from the connection state only. */
export function defaultSetup(state: HelperState): HelperSetup {
  if (state.kind === 'connected') return { state: 'running', title: 'PortSentry is protecting this computer', detail: '', action: null };
  if (state.kind === 'connecting') return { state: 'connecting', title: 'Connecting to the helper', detail: '', action: null };
  return { state: 'unreachable', title: 'The helper is not reachable', detail: state.message, action: { id: 'retry', label: 'Try again', elevated: false } };
}

function sendJson(response: ServerResponse, value: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(value));
}

/**
 * Runs in the page before its own scripts (serialized by page.addInitScript, so it may use
 * nothing from this module at run time). Implements PortSentryApi over the bridge.
 */
function installPortSentryShim(): void {
  interface MessageLike {
    readonly data: string;
  }
  interface PageGlobals {
    readonly location: { readonly protocol: string };
    readonly EventSource: new (url: string) => { addEventListener(name: string, listener: (message: MessageLike) => void): void };
    portsentry?: PortSentryApi;
  }
  const page = globalThis as unknown as PageGlobals;
  if (page.location.protocol !== 'http:') return;
  const listeners = { event: new Set<(value: never) => void>(), state: new Set<(value: never) => void>(), focus: new Set<(value: never) => void>() };
  let lastState: unknown = null;
  const source = new page.EventSource('/api/stream');
  for (const name of ['event', 'state', 'focus'] as const) {
    source.addEventListener(name, (message) => {
      const data = JSON.parse(message.data) as never;
      if (name === 'state') lastState = data;
      for (const listener of listeners[name]) listener(data);
    });
  }
  const listen = (name: keyof typeof listeners, listener: (value: never) => void): (() => void) => {
    listeners[name].add(listener);
    // Like the preload: a new state listener hears the current state at once.
    if (name === 'state' && lastState !== null) listener(lastState as never);
    return () => void listeners[name].delete(listener);
  };
  const call = async (method: string, ...args: unknown[]): Promise<never> => {
    const response = await fetch(`/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
    const body = (await response.json()) as { ok: boolean; result?: unknown; error?: unknown };
    if (!body.ok) throw body.error;
    return body.result as never;
  };
  const api: PortSentryApi = {
    status: () => call('status'),
    listEvents: (params) => call('listEvents', params),
    listBlocks: () => call('listBlocks'),
    block: (params) => call('block', params),
    unblock: (params) => call('unblock', params),
    listIgnored: () => call('listIgnored'),
    addIgnored: (params) => call('addIgnored', params),
    removeIgnored: (params) => call('removeIgnored', params),
    getConfig: () => call('getConfig'),
    setConfig: (params) => call('setConfig', params),
    pause: (params) => (params === undefined ? call('pause') : call('pause', params)),
    stats: (params) => call('stats', params),
    copyAddress: (address) => call('copyAddress', address),
    helperSetup: () => call('helperSetup'),
    fixHelper: (action) => call('fixHelper', action),
    resume: () => call('resume'),
    getPreferences: () => call('getPreferences'),
    setPreferences: (changes) => call('setPreferences', changes),
    onEvent: (listener) => listen('event', listener as (value: never) => void),
    onHelperState: (listener) => listen('state', listener as (value: never) => void),
    onFocusEvent: (listener) => listen('focus', listener as (value: never) => void),
  };
  Object.defineProperty(page, 'portsentry', { value: Object.freeze(api), enumerable: true });
}
