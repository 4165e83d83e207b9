// The dashboard's block form takes its limits from the helper, in real Chromium against a real
// helper whose root config sets the operator bounds (OPERATOR_BLOCK_PREFIX4 = 6, a range total
// of /4): the hint says /6, a /6 the old page refused as "too wide" goes to the helper and is
// blocked, and a /5 is refused by the helper, in the helper's own words, beside the field.
// The app talks to the operator socket, so these are the bounds a desktop user meets.
// Needs root and /usr/bin/chromium.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, startRendererBridge, type RendererBridge } from '../support/renderer-bridge.js';
import { until } from '../support/wait.js';

const TABLE = `psbb${process.pid}`.slice(0, 30);

describe("the block form's bounds are the helper's", { timeout: 240_000 }, () => {
  let lab: Lab<'target'>;
  let dir: string;
  let daemon: DaemonProcess;
  let bridge: RendererBridge;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const blockByHand = async (range: string) => {
    await page.fill('#block-address', range);
    await page.click('#block-submit');
  };

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'dashboard.html')), 'build the renderer first: node scripts/build-renderer.mjs');
    lab = await createLab(['target']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-block-bounds-'));
    await writeFile(join(dir, 'ignore'), '# block bounds test ignore list\n');
    await writeFile(
      join(dir, 'portsentry.conf'),
      helperConfigText(dir, { NFT_TABLE: TABLE, ADVANCED_PORTS_TCP: '1024', OPERATOR_BLOCK_PREFIX4: '6', OPERATOR_RANGE_TOTAL4: '4' }, '# block bounds test'),
    );
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-atcp']);
    [browser] = await Promise.all([chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }), daemon.waitFor('Control socket listening on')]);
    bridge = await startRendererBridge({ socketPath: join(dir, 'run', 'helper.sock') });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await bridge.install(page);
    await page.goto(`${bridge.url}/dashboard.html`);
    await page.locator('#helper-banner.banner-connected').waitFor({ timeout: 30_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await bridge?.close();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("the hint states the helper's bounds", async () => {
    await until('the hint has the bounds', async () => /up to \/6 \(IPv4\) and \/48 \(IPv6\)/.test(await page.locator('#block-address-hint').innerText()));
  });

  it("a range within the helper's bounds is sent and blocked, however wide the page used to think it", async () => {
    await blockByHand('64.0.0.0/6');
    await page.locator('#blocks-body tr[data-address="64.0.0.0/6"]').waitFor({ timeout: 30_000 });
    assert.match(await blockedSetsText(lab, lab.hosts.target, TABLE), /64\.0\.0\.0\/6/);
    assert.equal(await page.locator('#block-address-error').isVisible(), false);
  });

  it("a range beyond them is refused by the helper, in the helper's words beside the field", async () => {
    await blockByHand('32.0.0.0/5');
    const error = page.locator('#block-address-error');
    await error.waitFor({ timeout: 30_000 });
    assert.equal(
      await error.innerText(),
      'You are not allowed to block 32.0.0.0/5: 32.0.0.0/5 is wider than an operator may block (at most /6 for IPv4, OPERATOR_BLOCK_PREFIX4); root may block it with "sudo portsentryctl block 32.0.0.0/5"',
    );
    assert.ok(
      bridge.calls.some((call) => call.method === 'block' && (call.args[0] as { address: string }).address === '32.0.0.0/5'),
      'the helper, not the page, decided',
    );
    assert.doesNotMatch(await blockedSetsText(lab, lab.hosts.target, TABLE), /32\.0\.0\.0\/5/);
  });

  it('ran without a script error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
