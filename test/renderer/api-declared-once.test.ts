// "Declared once" made concrete for the renderer <-> main API: an entry added to the table in
// shared/ipc-schema.ts, and nowhere else, is exposed by the sandboxed preload, registered and
// validated by main's handlers, and served by the test bridge to a page in real Chromium. The
// test adds one (the helper's `version`, which the app does not expose today) to a copy of
// the compiled tree, runs the build's preload step on the copy as `npm run build` does, and
// asks each consumer, in a child process, what it makes of it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { APP_UNAVAILABLE } from '../../shared/desktop-api.js';
import { ErrorCode } from '../../shared/protocol/json-rpc.js';

const run = promisify(execFile);
const DIST = fileURLToPath(new URL('../../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const ANCHOR = "    onEvent: notify('portsentry:event'";
const NEW_ENTRY = "    helperVersion: helper('version'),\n";

describe('an IPC method declared once', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portsentry-ipctable-'));
    for (const part of ['shared', 'main', 'renderer', join('test', 'support')]) await cp(join(DIST, part), join(dir, 'dist', part), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
    const table = join(dir, 'dist', 'shared', 'ipc-schema.js');
    const text = await readFile(table, 'utf8');
    assert.ok(text.includes(ANCHOR), 'the compiled table has the anchor');
    await writeFile(table, text.replace(ANCHOR, NEW_ENTRY + ANCHOR));
    // The build's own step (npm run build runs it after tsc), on the copy.
    await run(process.execPath, [join(ROOT, 'scripts', 'build-preload.mjs'), join(dir, 'dist')]);
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('is exposed by the preload, registered and validated by main, and served by the bridge to a real page', { skip: !existsSync(CHROMIUM) && `needs ${CHROMIUM}` }, async () => {
    const probe = `
      import { readFileSync } from 'node:fs';
      import { runInNewContext } from 'node:vm';
      import { chromium } from 'playwright-core';
      import { registerIpcHandlers } from './dist/main/ipc-handlers.js';
      import { startRendererBridge } from './dist/test/support/renderer-bridge.js';
      const out = {};

      // The preload, run as Electron runs a sandboxed one: require() knows only 'electron'.
      const invoked = [];
      let exposed;
      const electron = {
        contextBridge: { exposeInMainWorld: (name, api) => { exposed = api; } },
        ipcRenderer: { invoke: async (channel, ...args) => { invoked.push([channel, args]); return { ok: true, value: null }; }, on() {}, removeListener() {} },
      };
      const body = runInNewContext('(function (require, process, exports, module) {\\n' + readFileSync('./dist/main/electron/preload.cjs', 'utf8') + '\\n})', {});
      body((name) => { if (name === 'electron') return electron; throw new Error('module not found: ' + name); }, {}, {}, { exports: {} });
      await exposed.helperVersion();
      out.preload = { type: typeof exposed.helperVersion, invoked };

      // Main's registration, with a recording helper.
      const handlers = new Map();
      const helperCalls = [];
      const channels = registerIpcHandlers({ handle: (channel, listener) => handlers.set(channel, listener) }, {
        isTrustedSender: () => true,
        helper: { call: async (method, params) => { helperCalls.push([method, params]); return { version: 'x', protocol: 1 }; } },
        local: {},
      });
      const event = { senderFrame: { url: 'file:///app/dashboard.html' } };
      out.main = {
        registered: channels.includes('portsentry:version'),
        good: await handlers.get('portsentry:version')(event),
        bad: await handlers.get('portsentry:version')(event, { verbose: true }),
        helperCalls,
      };

      // The bridge, to a page in Chromium: no helper is running, so a call that reaches the helper side says so.
      const bridge = await startRendererBridge({ socketPath: '/nonexistent/portsentry-ipctable.sock' });
      const browser = await chromium.launch({ executablePath: ${JSON.stringify(CHROMIUM)}, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        await bridge.install(page);
        await page.goto(bridge.url + '/settings.html');
        out.bridge = await page.evaluate(async () => {
          const api = window.portsentry;
          const settle = (promise) => promise.then((value) => ({ ok: true, value }), (error) => ({ ok: false, code: error.code }));
          return { type: typeof api.helperVersion, call: await settle(api.helperVersion()), bad: await settle(api.helperVersion({ verbose: true })) };
        });
        out.bridge.calls = bridge.calls.filter((c) => c.method === 'helperVersion').length;
      } finally {
        await browser.close();
        await bridge.close();
      }
      console.log(JSON.stringify(out));
    `;
    await writeFile(join(dir, 'probe.mjs'), probe);
    const { stdout } = await run(process.execPath, [join(dir, 'probe.mjs')], { cwd: dir, timeout: 120_000 });
    const out = JSON.parse(stdout) as {
      preload: { type: string; invoked: [string, unknown[]][] };
      main: { registered: boolean; good: unknown; bad: { ok: boolean; error?: { code: number } }; helperCalls: unknown[] };
      bridge: { type: string; call: { ok: boolean; code?: number }; bad: { ok: boolean; code?: number }; calls: number };
    };
    assert.deepEqual(out.preload, { type: 'function', invoked: [['portsentry:version', []]] }, 'the preload exposes it on its channel');
    assert.equal(out.main.registered, true, 'main registers its channel');
    assert.deepEqual(out.main.good, { ok: true, value: { version: 'x', protocol: 1 } }, 'and forwards it to the helper');
    assert.equal(out.main.bad.ok, false);
    assert.equal(out.main.bad.error?.code, ErrorCode.INVALID_PARAMS, "a bad argument is refused by the helper protocol's own schema");
    assert.deepEqual(out.main.helperCalls, [['version', {}]], 'only the good call reached the helper');
    assert.equal(out.bridge.type, 'function', 'the page has it');
    assert.deepEqual(out.bridge.call, { ok: false, code: APP_UNAVAILABLE }, 'the bridge routed it to the helper side');
    assert.deepEqual(out.bridge.bad, { ok: false, code: ErrorCode.INVALID_PARAMS }, 'and refused a bad argument first');
    assert.equal(out.bridge.calls, 2);
  });
});
