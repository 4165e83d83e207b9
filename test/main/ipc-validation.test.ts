// What a (possibly compromised) renderer can send to main, and what main does with it: only
// the fixed channels, only arguments the shared schemas accept, only from our own pages.
// Also: the compiled preload uses exactly those channels, runs as a sandboxed preload must
// (a CommonJS body whose require knows only 'electron'), and every API call it makes passes
// validation; and the window security settings.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { APP_UNAVAILABLE, type PortSentryApi } from '../../shared/desktop-api.js';
import { ErrorCode } from '../../shared/protocol/json-rpc.js';
import { HelperError, HelperUnavailableError } from '../../shared/rpc/helper-client.js';
import { INVOKE_CHANNELS, ipcSchema, NOTIFY_CHANNELS } from '../../shared/ipc-schema.js';
import { routeRequest, toApiError, type LocalHandlers } from '../../main/api-router.js';
import { registerIpcHandlers, type InvokeEventLike } from '../../main/ipc-handlers.js';
import { isTrustedSender, validateIpcRequest } from '../../main/ipc-validation.js';
import { PREFERENCE_DEFAULTS } from '../../main/preferences-schema.js';
import { CONTENT_SECURITY_POLICY, secureWebPreferences, withContentSecurityPolicy } from '../../main/security-policy.js';

const PRELOAD = fileURLToPath(new URL('../../main/electron/preload.cjs', import.meta.url));

function rejects(channel: unknown, args: unknown[], code: number = ErrorCode.INVALID_PARAMS): void {
  const result = validateIpcRequest(channel, args);
  assert.equal(result.ok, false, `${String(channel)} ${JSON.stringify(args)?.slice(0, 80)} must be refused`);
  if (!result.ok) {
    assert.equal(result.error.code, code);
    assert.ok(result.error.message.length <= 500, 'errors are bounded');
  }
}

describe('ipc validation', () => {
  it('accepts every channel with good arguments, canonicalising addresses', () => {
    const ok = validateIpcRequest('portsentry:block', [{ address: 'FD00:5E:0:0:0:0:0:C', reason: 'manual', timeoutSeconds: 60 }]);
    assert.deepEqual(ok, { ok: true, request: { method: 'block', params: { address: 'fd00:5e::c', reason: 'manual', timeoutSeconds: 60 } } });
    const list = validateIpcRequest('portsentry:events.list', [{ host: '198.18.0.11' }]);
    assert.ok(list.ok && list.request.method === 'listEvents' && list.request.params.limit === 100, 'defaults are filled in');
    for (const channel of ['portsentry:status', 'portsentry:blocks.list', 'portsentry:pause', 'portsentry:resume', 'portsentry:config.get', 'portsentry:ignore.list']) {
      assert.equal(validateIpcRequest(channel, []).ok, true, channel);
      assert.equal(validateIpcRequest(channel, [{}]).ok, true, channel);
    }
    assert.deepEqual(validateIpcRequest('portsentry:preferences.get', []), { ok: true, request: { method: 'getPreferences', params: undefined } });
    assert.deepEqual(validateIpcRequest('portsentry:preferences.set', [{ theme: 'dark' }]), { ok: true, request: { method: 'setPreferences', params: { theme: 'dark' } } });
    assert.equal(validateIpcRequest('portsentry:ignore.add', [{ entry: '198.18.7.0/24', comment: 'lab' }]).ok, true);
    assert.equal(validateIpcRequest('portsentry:config.set', [{ changes: { SCAN_TRIGGER: '2' } }]).ok, true);
  });

  it('refuses unknown channels, including prototype names and the subscribe method', () => {
    for (const channel of [
      'status',
      'portsentry:events.subscribe',
      'portsentry:version',
      '__proto__',
      'constructor',
      'toString',
      'portsentry:hasOwnProperty',
      'portsentry:event',
      '',
      'PORTSENTRY:STATUS',
      42,
      null,
      undefined,
      {},
      ['portsentry:status'],
    ]) {
      rejects(channel, [], ErrorCode.METHOD_NOT_FOUND);
    }
  });

  it('refuses hostile and malformed arguments', () => {
    const hostile = [
      '$(reboot)',
      '`id`',
      '198.18.0.1; halt',
      '198.18.0.1\n198.18.0.2',
      '::1%eth0',
      'example.com',
      '999.1.1.1',
      '198.18.0.5/16',
      '198.18.0.0/33',
      '::ffff:198.18.0.0/112',
      'x'.repeat(100_000),
      '\u0000',
    ];
    for (const address of hostile) {
      rejects('portsentry:block', [{ address }]);
      rejects('portsentry:unblock', [{ address }]);
    }
    rejects('portsentry:block', [{ address: '198.18.0.1', reason: 'line\nbreak' }]);
    rejects('portsentry:block', [{ address: '198.18.0.1', timeoutSeconds: -5 }]);
    rejects('portsentry:block', [{ address: '198.18.0.1', extra: true }]);
    rejects('portsentry:block', [{ address: '198.18.0.1' }, { second: 'argument' }]);
    rejects('portsentry:block', []);
    rejects('portsentry:block', ['198.18.0.1']);
    rejects('portsentry:block', [JSON.parse('{"address":"198.18.0.1","__proto__":{"polluted":true}}')]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    rejects('portsentry:status', [{ unexpected: 1 }]);
    rejects('portsentry:status', [null]);
    rejects('portsentry:events.list', [{ limit: 5000 }]);
    rejects('portsentry:events.list', [{ since: 10, until: 5 }]);
    rejects('portsentry:config.set', [{ changes: { KILL_RUN_CMD: 'x"; reboot' } }]);
    rejects('portsentry:config.set', [{ changes: {} }]);
    rejects('portsentry:ignore.add', [{ entry: '198.18.0.1/99' }]);
    rejects('portsentry:preferences.get', [{}]);
    for (const change of [{}, { theme: 'neon' }, { quietStart: '24:00' }, { startAtLogin: 1 }, { evil: true }, null, 'dark', [{ theme: 'dark' }]]) {
      rejects('portsentry:preferences.set', [change]);
    }
    rejects('portsentry:status', 'not an array' as unknown as unknown[]);
    // The clipboard takes an address or a range, nothing a shell or a paste could run.
    for (const text of ['$(reboot)', 'rm -rf ~', '198.18.0.1\n', '198.18.0.1 && x', 'x'.repeat(5000), '', 7]) rejects('portsentry:clipboard.copy-address', [text]);
    assert.deepEqual(validateIpcRequest('portsentry:clipboard.copy-address', ['FD00::7']), { ok: true, request: { method: 'copyAddress', params: 'fd00::7' } });
    // The fixes are a closed list: a page cannot name a program to run as root.
    for (const fix of ['/bin/sh', 'install; reboot', 'INSTALL', '', null, ['start'], { id: 'start' }]) rejects('portsentry:helper.fix', [fix]);
    rejects('portsentry:helper.setup', ['x']);
    assert.equal(validateIpcRequest('portsentry:helper.fix', ['join-group']).ok, true);
    rejects('portsentry:pause', [{ durationSeconds: -1 }]);
    rejects('portsentry:stats', [{ buckets: 100_000 }]);
  });

  it('trusts only our own renderer pages', () => {
    const dir = '/opt/portsentry/dist/renderer/';
    assert.equal(isTrustedSender('file:///opt/portsentry/dist/renderer/dashboard.html', dir), true);
    assert.equal(isTrustedSender('file:///opt/portsentry/dist/renderer/settings.html#event=4', '/opt/portsentry/dist/renderer'), true);
    for (const url of [
      'https://evil.example/dashboard.html',
      'file:///opt/portsentry/dist/renderer-evil/dashboard.html',
      'file:///opt/portsentry/dist/renderer/../../../../tmp/x.html',
      'file:///opt/portsentry/dist/renderer/%2e%2e/x.html',
      'file:///opt/portsentry/dist/renderer/%E0.html',
      'file://remotehost/opt/portsentry/dist/renderer/dashboard.html',
      'file:///opt/portsentry/dist/renderer/data.json',
      'data:text/html,<script>1</script>',
      'about:blank',
      '',
      'not a url',
    ]) {
      assert.equal(isTrustedSender(url, dir), false, url);
    }
  });
});

describe('trusted senders on Windows', () => {
  // What Electron gives on Windows: fileURLToPath(new URL('../../renderer/', import.meta.url))
  // is a backslash path, while the sender frame's URL is file:///C:/... (Chromium upper-cases
  // the drive letter and turns backslashes into slashes).
  const dir = 'C:\\Program Files\\PortSentry Desktop\\resources\\app.asar\\dist\\renderer\\';
  const page = 'file:///C:/Program%20Files/PortSentry%20Desktop/resources/app.asar/dist/renderer/';

  it("trusts the app's own pages", () => {
    assert.equal(isTrustedSender(`${page}dashboard.html`, dir, 'win32'), true);
    assert.equal(isTrustedSender(`${page}settings.html#event=4`, dir, 'win32'), true);
    assert.equal(isTrustedSender(`${page.replace('C:', 'c:')}dashboard.html`, dir, 'win32'), true, 'drive letters compare case-insensitively');
    assert.equal(isTrustedSender(`${page}dashboard.html`, dir.slice(0, -1), 'win32'), true, 'with or without the trailing separator');
  });

  it('refuses everything else, including the Windows-only ways out', () => {
    for (const url of [
      'file:///C:/Program%20Files/PortSentry%20Desktop/resources/app.asar/dist/renderer-evil/dashboard.html',
      `${page}..%5C..%5C..%5Cevil.html`,
      `${page}%2e%2e/x.html`,
      'file:///D:/Program%20Files/PortSentry%20Desktop/resources/app.asar/dist/renderer/dashboard.html',
      'file://attacker/share/dist/renderer/dashboard.html',
      `${page}data.json`,
      'https://evil.example/dashboard.html',
    ]) {
      assert.equal(isTrustedSender(url, dir, 'win32'), false, url);
    }
  });
});

/** Main's own answers, where a test does not care about them. */
const unusedLocal: LocalHandlers = {
  getPreferences: () => PREFERENCE_DEFAULTS,
  setPreferences: () => PREFERENCE_DEFAULTS,
  copyAddress: () => undefined,
  helperSetup: () => ({ state: 'running', title: 'running', detail: '', action: null }),
  fixHelper: async () => ({ done: true, message: 'done' }),
  lookupNetworks: () => [],
};

describe('routing validated requests', () => {
  it('answers with envelopes, never rejections, and maps errors to { code, message }', async () => {
    const calls: unknown[] = [];
    const targets = {
      helper: {
        call: async (method: string, params: unknown) => {
          calls.push([method, params]);
          if (method === 'block') throw new HelperError(ErrorCode.PROTECTED_ADDRESS, 'own address');
          if (method === 'pause') throw new HelperUnavailableError('not connected', 'not-running');
          if (method === 'resume') throw new TypeError('boom');
          return { ok: method };
        },
      },
      local: {
        ...unusedLocal,
        getPreferences: () => PREFERENCE_DEFAULTS,
        setPreferences: () => {
          throw new Error('disk full');
        },
      },
    } as unknown as Parameters<typeof routeRequest>[1];
    const route = (channel: string, args: unknown[] = []) => {
      const v = validateIpcRequest(channel, args);
      assert.ok(v.ok);
      return routeRequest(v.request, targets);
    };
    assert.deepEqual(await route('portsentry:status'), { ok: true, value: { ok: 'status' } });
    assert.deepEqual(await route('portsentry:block', [{ address: '198.18.0.1' }]), { ok: false, error: { code: ErrorCode.PROTECTED_ADDRESS, message: 'own address' } });
    assert.deepEqual(await route('portsentry:pause'), { ok: false, error: { code: APP_UNAVAILABLE, message: 'not connected' } });
    assert.deepEqual(await route('portsentry:resume'), { ok: false, error: { code: ErrorCode.INTERNAL_ERROR, message: 'boom' } });
    assert.deepEqual(await route('portsentry:preferences.get'), { ok: true, value: PREFERENCE_DEFAULTS });
    assert.deepEqual(await route('portsentry:preferences.set', [{ theme: 'dark' }]), { ok: false, error: { code: ErrorCode.INTERNAL_ERROR, message: 'disk full' } });
    assert.deepEqual(calls[0], ['status', {}]);
    assert.deepEqual(toApiError('a string'), { code: ErrorCode.INTERNAL_ERROR, message: 'internal error' });
  });
});

describe('the compiled preload', () => {
  /** Runs preload.cjs the way Electron runs a sandboxed preload, with a recording ipcRenderer. */
  async function loadPreload(answer?: (channel: string, args: unknown[]) => Promise<unknown>) {
    const source = await readFile(PRELOAD, 'utf8');
    assert.doesNotMatch(source, /^\s*(import|export)\s/m, 'no ESM syntax: a sandboxed preload is a classic function body');
    const invoked: [string, unknown[]][] = [];
    const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
    let exposed: { name: string; api: PortSentryApi } | undefined;
    const electron = {
      contextBridge: { exposeInMainWorld: (name: string, api: PortSentryApi) => (exposed = { name, api }) },
      ipcRenderer: {
        invoke: async (channel: string, ...args: unknown[]) => {
          invoked.push([channel, args]);
          if (answer !== undefined) return answer(channel, args);
          return channel === 'portsentry:pause' ? { ok: false, error: { code: APP_UNAVAILABLE, message: 'no helper' } } : { ok: true, value: channel };
        },
        on: (channel: string, fn: (...args: unknown[]) => void) => listeners.set(channel, (listeners.get(channel) ?? new Set()).add(fn)),
        removeListener: (channel: string, fn: (...args: unknown[]) => void) => listeners.get(channel)?.delete(fn),
      },
    };
    const required: string[] = [];
    const sandboxRequire = (name: string) => {
      required.push(name);
      if (name === 'electron') return electron;
      throw new Error(`module not found: ${name}`);
    };
    const body = runInNewContext(`(function (require, process, exports, module) {\n${source}\n})`, {}) as (...args: unknown[]) => void;
    const exports = {};
    body(sandboxRequire, {}, exports, { exports });
    assert.deepEqual(required, ['electron']);
    assert.ok(exposed !== undefined);
    return { api: exposed.api, name: exposed.name, invoked, listeners, source };
  }

  it('uses exactly the channels main validates, and every call it makes passes validation', async () => {
    const { api, name, invoked, source } = await loadPreload();
    assert.equal(name, 'portsentry');
    assert.deepEqual(Object.keys(api).sort(), Object.keys(ipcSchema).sort(), 'one function per entry of the IPC table');
    assert.match(source, /const manifest = \/\* PORTSENTRY_IPC_MANIFEST \*\/ \{/, "the build wrote the table's manifest into the preload");

    await api.status();
    await api.listEvents({ host: '198.18.0.11', limit: 10 });
    await api.listBlocks();
    await api.block({ address: '198.18.0.11', reason: 'r' });
    await api.unblock({ address: '198.18.0.11' });
    await api.listIgnored();
    await api.addIgnored({ entry: '198.18.7.0/24' });
    await api.removeIgnored({ entry: '198.18.7.0/24' });
    await api.undoIgnored({ entry: '198.18.7.0/24', reblock: [{ address: '198.18.7.0/24', since: 1, until: null, reason: 'by hand' }] });
    await api.getConfig();
    await api.setConfig({ changes: { SCAN_TRIGGER: '1' } });
    await api.resume();
    await api.getPreferences();
    await api.setPreferences({ theme: 'light' });
    await api.stats({ since: 0, host: '198.18.0.11' });
    await api.copyAddress('198.18.0.0/24');
    await api.helperSetup();
    await api.fixHelper('start');
    await api.listScans({ limit: 10 });
    await api.lookupNetworks(['198.18.0.11', 'fd00:5e::c']);
    await assert.rejects(api.pause(), (e: unknown) => JSON.stringify(e) === JSON.stringify({ code: APP_UNAVAILABLE, message: 'no helper' }));
    assert.deepEqual([...new Set(invoked.map(([c]) => c))].sort(), [...INVOKE_CHANNELS.keys()].sort(), 'every request channel is reachable, and no other');
    for (const [channel, args] of invoked) assert.equal(validateIpcRequest(channel, args).ok, true, `${channel} ${JSON.stringify(args)}`);
    assert.equal(await api.status(), 'portsentry:status' as never, 'the envelope is unwrapped');
    assert.equal(Object.values(ipcSchema).filter((entry) => entry.kind === 'invoke' && entry.helper !== null).length, 15, 'fifteen helper methods reach the renderer');
  });

  it("a page's call with bad arguments is refused by main's registered handler, and nothing is done", async () => {
    const PAGE = 'file:///opt/portsentry/dist/renderer/dashboard.html';
    const handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
    const done: unknown[] = [];
    const record = (name: string) => (params: unknown) => {
      done.push([name, params]);
      return undefined as never;
    };
    const registered = registerIpcHandlers(
      { handle: (channel, listener) => void handlers.set(channel, listener) },
      {
        isTrustedSender: (url) => url === PAGE,
        helper: { call: async (method, params) => record(method)(params) },
        local: {
          getPreferences: record('getPreferences'),
          setPreferences: record('setPreferences'),
          copyAddress: record('copyAddress'),
          lookupNetworks: record('lookupNetworks'),
          helperSetup: record('helperSetup'),
          fixHelper: record('fixHelper'),
        },
      },
    );
    assert.deepEqual([...registered].sort(), [...INVOKE_CHANNELS.keys()].sort(), 'one handler per request of the table');
    let sender = PAGE;
    // ipcRenderer.invoke reaches main's handler as in Electron (structured clone: JSON is the part our messages use).
    const { api } = await loadPreload(async (channel, args) => handlers.get(channel)!({ senderFrame: { url: sender } }, ...(JSON.parse(JSON.stringify(args)) as unknown[])));
    const refused = async (call: Promise<unknown>, what: string) =>
      assert.rejects(call, (error: { code?: number; message?: string }) => error.code === ErrorCode.INVALID_PARAMS && typeof error.message === 'string', what);
    await refused(api.block({ address: '198.18.0.1; halt' }), 'a shell string for an address');
    await refused(api.block({ address: '198.18.0.1', extra: true } as never), 'an unknown field');
    await refused(api.unblock({ address: 'x'.repeat(100_000) }), 'a huge string');
    await refused(api.listEvents({ limit: 5000 }), 'out of range');
    await refused((api.status as (params: unknown) => Promise<unknown>)({ unexpected: 1 }), 'params for a method that takes none');
    await refused((api.getPreferences as (params: unknown) => Promise<unknown>)('x'), 'an argument for a request that takes none');
    await refused(api.setPreferences({ theme: 'neon' } as never), 'a preference value not on the list');
    await refused(api.copyAddress('$(reboot)'), 'a command for the clipboard');
    await refused(api.fixHelper('/bin/sh' as never), 'a program instead of a fix');
    assert.deepEqual(done, [], 'neither the helper nor main did anything');

    await api.block({ address: 'FD00:0:0:0:0:0:0:1' });
    await api.copyAddress('198.18.0.0/24');
    assert.deepEqual(
      done,
      [
        ['block', { address: 'fd00::1' }],
        ['copyAddress', '198.18.0.0/24'],
      ],
      'good calls arrive parsed (canonical addresses)',
    );

    sender = 'https://evil.example/dashboard.html';
    await assert.rejects(api.status(), (error: { message?: string }) => /untrusted page/.test(error.message ?? ''));
    assert.equal(done.length, 2, 'an untrusted page gets nothing done');
  });

  it('push subscriptions hand over the payload only, and unsubscribe', async () => {
    const { api, listeners } = await loadPreload();
    const got: unknown[] = [];
    const stop = api.onFocusEvent((id) => got.push(id));
    api.onHelperState((s) => got.push(s));
    api.onEvent((e) => got.push(e.id));
    api.onScan((r) => got.push(r.id));
    assert.deepEqual([...listeners.keys()].sort(), [...NOTIFY_CHANNELS.values()].sort(), 'each push of the table, on its channel');
    const fire = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((fn) => fn({ sender: 'secret' }, payload));
    fire('portsentry:focus-event', 7);
    fire('portsentry:helper-state', { kind: 'connecting' });
    fire('portsentry:event', { id: 9 });
    fire('portsentry:scan', { id: 'scan-1' });
    stop();
    fire('portsentry:focus-event', 8);
    assert.deepEqual(got, [7, { kind: 'connecting' }, 9, 'scan-1']);
  });
});

describe('window security settings', () => {
  it('isolates and sandboxes every window', () => {
    const prefs = secureWebPreferences('/x/preload.cjs');
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.preload, '/x/preload.cjs');
  });
  it('replaces any Content-Security-Policy a response brings with the strict one', () => {
    assert.equal(CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    const headers = withContentSecurityPolicy({ 'content-security-policy': ['default-src *'], 'Content-Security-Policy-Report-Only': 'x', 'Content-Type': 'text/html' });
    assert.deepEqual(headers, { 'Content-Type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    assert.deepEqual(withContentSecurityPolicy(undefined), { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });
});
