// Runs the renderer in plain Chromium against a REAL helper. A small HTTP server on
// 127.0.0.1 serves dist/renderer and exposes each request of the IPC table
// (shared/ipc-schema.ts) as POST /api/<name>, checked by main's own validation and routing
// (main/ipc-handlers.ts) and forwarded through HelperClient to the helper's control socket;
// the table's pushes (events, helper states, focus requests) flow to the page as server-sent
// events on GET /api/stream, named by the table. install(page) injects a window.portsentry
// built from the same table over fetch/EventSource, so the page code is exactly what runs in
// Electron behind the preload. Main's own answers (GUI preferences, in memory here; the
// clipboard; the first-run view) are the bridge's, one per entry of the table.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { GuiPreferences, HelperFix, HelperFixResult, HelperSetup, HelperState, PortSentryApi } from '../../shared/desktop-api.js';
import { ipcSchema, preloadManifest, type IpcEntry, type NotifyMethod, type PayloadOf, type PreloadManifest } from '../../shared/ipc-schema.js';
import type { MethodName, ParamsOf, ResultOf } from '../../shared/protocol/methods.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { HelperClient, HelperUnavailableError } from '../../shared/rpc/helper-client.js';
import type { LocalHandlers } from '../../main/api-router.js';
import { handleIpcRequest } from '../../main/ipc-handlers.js';
import { NetworkOwners } from '../../main/network-owner.js';
import { until } from './wait.js';

export const RENDERER_ROOT = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** The API's request methods: the table's invoke entries. */
type RequestName = { [K in keyof PortSentryApi]: (typeof ipcSchema)[K] extends { kind: 'invoke' } ? K : never }[keyof PortSentryApi];

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
  /**
   * A barrier: resolves once every request the page has started so far has been answered and
   * its answer handed back (what the page draws from it follows in the same task), so a
   * request the page made in reply to something already done cannot still be on its way.
   */
  answered(page: Page): Promise<void>;
  /** Addresses the page copied (main's clipboard in the app). */
  readonly copied: string[];
  /** Fixes the page asked for, in order. */
  readonly fixes: HelperFix[];
  /** What main does when a notification is clicked. */
  focusEvent(id: number): void;
  /** Tries the helper again now, as the supervisor's backoff timer does in the app (a page learns the outcome by the state push). */
  retry(): Promise<void>;
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

  const broadcast = <K extends NotifyMethod>(name: K, data: PayloadOf<K>) => {
    for (const stream of streams) stream.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const setState = (next: HelperState) => {
    state = next;
    broadcast('onHelperState', next);
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
        await fresh.subscribe((event: StoredEvent) => broadcast('onEvent', event));
        await fresh.subscribeScans((record) => broadcast('onScan', record));
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

  /** The helper side of main's routing, as the supervisor does it: one connection, and the state follows pause/resume. */
  const helperTarget = {
    call: async <M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> => {
      const result = await (await helper()).call(method, params);
      if (method === 'pause' || method === 'resume') {
        const paused = result as ResultOf<'pause'>;
        setState({ kind: 'connected', paused: paused.paused, pausedUntil: paused.pausedUntil ?? null });
      }
      return result;
    },
  };

  /** What main answers itself in the app: one handler per such entry of the table, or this does not compile. */
  const networkOwners = NetworkOwners.shipped();
  const local: LocalHandlers = {
    // Main's real lookup over the shipped databases, as in the app.
    lookupNetworks: (addresses) => networkOwners.lookup(addresses),
    getPreferences: () => preferences,
    setPreferences: (changes) => {
      preferences = { ...preferences, ...changes };
      return preferences;
    },
    copyAddress: (address) => {
      copied.push(address);
    },
    helperSetup: () => (options.setup ?? defaultSetup)(state),
    fixHelper: async (action) => {
      fixes.push(action);
      const result = await (options.fix ?? (async () => ({ done: true as const, message: 'done' })))(action);
      // Like main: after a fix, try the helper again at once.
      client?.close();
      client = null;
      await helper().catch(() => undefined);
      return result;
    },
  };

  const serveApi = async (name: string, request: IncomingMessage, response: ServerResponse) => {
    const entry: IpcEntry | undefined = Object.hasOwn(ipcSchema, name) ? (ipcSchema as Readonly<Record<string, IpcEntry>>)[name] : undefined;
    if (entry?.kind !== 'invoke' || request.method !== 'POST') {
      response.writeHead(404).end();
      return;
    }
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const args = body === '' ? [] : (JSON.parse(body) as unknown[]);
    calls.push({ method: name as RequestName, args });
    // Main's own check and routing: a page's bad argument is refused here as in the app.
    const envelope = await handleIpcRequest(entry.channel, 'bridge', Array.isArray(args) ? args : [args], { isTrustedSender: () => true, helper: helperTarget, local });
    // Errors cross the bridge as the plain { code, message } objects of desktop-api.ts.
    sendJson(response, envelope.ok ? { ok: true, result: envelope.value } : { ok: false, error: envelope.error });
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
      response.write(`event: onHelperState\ndata: ${JSON.stringify(state)}\n\n`);
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
      await page.addInitScript(installPortSentryShim, preloadManifest());
    },
    answered: async (page) => {
      const open = () =>
        page.evaluate(() => {
          const count = (globalThis as unknown as { __portsentryBridgeRequests?: { started: number; answered: number } }).__portsentryBridgeRequests;
          return count === undefined ? -1 : count.started - count.answered;
        });
      await until('the page has its answer to every request it made', async () => (await open()) === 0);
    },
    focusEvent: (id) => broadcast('onFocusEvent', id),
    retry: () =>
      helper().then(
        () => undefined,
        () => undefined,
      ),
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
 * nothing from this module at run time; the table's names and channels arrive as its
 * argument, as they are written into the preload). Implements PortSentryApi over the bridge.
 */
function installPortSentryShim(manifest: PreloadManifest): void {
  interface MessageLike {
    readonly data: string;
  }
  interface PageGlobals {
    readonly location: { readonly protocol: string };
    readonly EventSource: new (url: string) => { addEventListener(name: string, listener: (message: MessageLike) => void): void };
    portsentry?: PortSentryApi;
    __portsentryBridgeRequests?: { started: number; answered: number };
  }
  const page = globalThis as unknown as PageGlobals;
  if (page.location.protocol !== 'http:') return;
  const listeners = new Map<string, Set<(value: unknown) => void>>(manifest.notify.map(([name]) => [name, new Set()]));
  let lastState: unknown = null;
  const source = new page.EventSource('/api/stream');
  for (const [name] of manifest.notify) {
    source.addEventListener(name, (message) => {
      const data = JSON.parse(message.data) as unknown;
      if (name === 'onHelperState') lastState = data;
      for (const listener of listeners.get(name) ?? []) listener(data);
    });
  }
  const listen = (name: string, listener: unknown): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const call = (value: unknown) => void listener(value);
    listeners.get(name)?.add(call);
    // Like main on did-finish-load: a new state listener hears the current state at once.
    if (name === 'onHelperState' && lastState !== null) call(lastState);
    return () => void listeners.get(name)?.delete(call);
  };
  // Requests started and answered, for the bridge's answered() barrier (not part of the API).
  const requests = { started: 0, answered: 0 };
  Object.defineProperty(page, '__portsentryBridgeRequests', { value: requests });
  const call = async (method: string, arg: unknown): Promise<unknown> => {
    // As the preload: only the first argument crosses, none when it is left out.
    const body = JSON.stringify(arg === undefined ? [] : [arg]);
    requests.started += 1;
    try {
      const response = await fetch(`/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = (await response.json()) as { ok: boolean; result?: unknown; error?: unknown };
      if (!answer.ok) throw answer.error;
      return answer.result;
    } finally {
      requests.answered += 1;
    }
  };
  const api: Record<string, unknown> = {};
  for (const [name] of manifest.invoke) api[name] = (arg?: unknown) => call(name, arg);
  for (const [name] of manifest.notify) api[name] = (listener: unknown) => listen(name, listener);
  Object.defineProperty(page, 'portsentry', { value: Object.freeze(api as PortSentryApi), enumerable: true });
}
