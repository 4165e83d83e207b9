// Settings keep the user's work across a helper restart, in real Chromium against a real
// helper: fields edited but not applied keep the user's values, marked unsaved; a field the
// user did not touch shows the helper's new value; an edited field whose value the helper
// changed underneath says so beside it (yours and the helper's now); Apply then sends the
// user's edits. Needs root and /usr/bin/chromium.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, startRendererBridge, type RendererBridge } from '../support/renderer-bridge.js';
import { until } from '../support/wait.js';

const TABLE = `psse${process.pid}`.slice(0, 30);

describe('settings keep unsaved edits across a helper restart', { timeout: 240_000 }, () => {
  let lab: Lab<'target'>;
  let dir: string;
  let daemon: DaemonProcess | undefined;
  let bridge: RendererBridge;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const startHelper = async (keys: Record<string, string>) => {
    await writeFile(join(dir, 'portsentry.conf'), helperConfigText(dir, { NFT_TABLE: TABLE, ADVANCED_PORTS_TCP: '1024', ...keys }, '# settings keep-edits test'));
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-atcp']);
    await daemon.waitFor('Control socket listening on');
  };
  const row = (key: string) => page.locator(`.field-row[data-key="${key}"]`);
  const unsaved = async (key: string) => (await row(key).getAttribute('class'))?.split(' ').includes('changed') ?? false;

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'settings.html')), 'build the renderer first: node scripts/build-renderer.mjs');
    lab = await createLab(['target']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-settings-edits-'));
    await writeFile(join(dir, 'ignore'), '# settings test ignore list\n');
    await writeFile(join(dir, 'operator-settings.conf'), '# operator settings\n');
    [browser] = await Promise.all([chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }), startHelper({ TCP_PORTS: '1,11', ADVANCED_EXCLUDE_TCP: '113,139' })]);
    bridge = await startRendererBridge({ socketPath: join(dir, 'run', 'helper.sock') });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await bridge.install(page);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await bridge?.close();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('an edit survives the restart; the helper moving the same field underneath is said beside it', async () => {
    await page.goto(`${bridge.url}/settings.html`);
    await until('the settings are loaded', async () => (await page.inputValue('#cfg-NFT_TABLE')) === TABLE);
    assert.equal(await page.inputValue('#cfg-TCP_PORTS'), '1,11');
    await page.fill('#cfg-SCAN_TRIGGER', '4');
    await page.fill('#cfg-TCP_PORTS', '1,2,3');
    assert.equal(await unsaved('SCAN_TRIGGER'), true);

    // The helper restarts with TCP_PORTS (edited here) and ADVANCED_EXCLUDE_TCP (untouched here) changed.
    await daemon!.stop();
    await page.locator('#helper-banner.banner-unreachable').waitFor({ timeout: 60_000 });
    await startHelper({ TCP_PORTS: '1,5', ADVANCED_EXCLUDE_TCP: '113,139,7' });
    await bridge.retry();
    // The reload is done when the untouched field shows the helper's new value.
    await until('the untouched field took the helper value', async () => (await page.inputValue('#cfg-ADVANCED_EXCLUDE_TCP')) === '113,139,7');

    assert.equal(await page.inputValue('#cfg-SCAN_TRIGGER'), '4', 'the edit was kept');
    assert.equal(await unsaved('SCAN_TRIGGER'), true, 'and is still marked unsaved');
    assert.equal(await page.locator('#cfg-SCAN_TRIGGER-underneath').isVisible(), false, 'the helper did not move it');
    assert.equal(await page.inputValue('#cfg-TCP_PORTS'), '1,2,3', "yours, not the helper's");
    assert.equal(await unsaved('TCP_PORTS'), true);
    assert.equal(await page.locator('#cfg-TCP_PORTS-underneath').innerText(), "Changed in the helper meanwhile: yours (unsaved) is “1,2,3”, the helper's is now “1,5”.");
    assert.equal(await unsaved('ADVANCED_EXCLUDE_TCP'), false);

    // Apply sends the user's two edits, against what the helper runs now.
    const callsBefore = bridge.calls.length;
    await page.click('#apply');
    await until('applied', async () => /^Applied:/.test(await page.locator('#apply-status').innerText()));
    const sent = bridge.calls.slice(callsBefore).filter((call) => call.method === 'setConfig');
    assert.deepEqual(
      sent.map((call) => call.args[0]),
      [{ changes: { SCAN_TRIGGER: '4', TCP_PORTS: '1,2,3' } }],
    );
    assert.equal(await page.locator('#cfg-TCP_PORTS-underneath').isVisible(), false, 'applied: nothing is unsaved any more');
    assert.equal(await unsaved('TCP_PORTS'), false);
  });

  it('ran without a script error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
