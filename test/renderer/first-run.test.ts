// The dashboard a new user opens first, in real Chromium against a real helper (or none): until
// the helper has answered, the window is the setup card alone: no banner, no panels, no "Cannot
// load ... not connected" anywhere, and no panel even asks the helper. With no helper at all the
// card offers the install; with no graphical password prompt it shows the exact command instead
// of a button. A real helper that stopped (a bad config: exit status and its last line, as
// systemd reports them) puts its reason on the card. When the helper comes up, the panels load.
// The card's words come from main's own diagnosis (main/helper-setup.ts), fed with these facts.
// Needs root and /usr/bin/chromium.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describeServiceStop, diagnoseHelper, type SetupFacts } from '../../main/helper-setup.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, startRendererBridge, type RendererBridge } from '../support/renderer-bridge.js';
import { until } from '../support/wait.js';

const TABLE = `psfr${process.pid}`.slice(0, 30);
const INSTALLER = '/opt/PortSentry/resources/install-helper.sh';
const PANEL_CALLS = new Set(['listEvents', 'listBlocks', 'stats', 'listIgnored']);

describe('first run: the setup card alone until the helper answers', { timeout: 240_000 }, () => {
  let lab: Lab<'target'>;
  let dir: string;
  let daemon: DaemonProcess | undefined;
  let bridge: RendererBridge;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** What main would gather (gatherSetupFacts): no password prompt here, and the test's own answers for the rest. */
  let facts: Omit<SetupFacts, 'helper'> = {
    installed: false,
    installer: INSTALLER,
    user: 'root',
    group: null,
    processGroups: [],
    sessionId: null,
    stoppedBecause: null,
    elevation: false,
  };

  const config = (keys: Record<string, string>) => writeFile(join(dir, 'portsentry.conf'), helperConfigText(dir, { NFT_TABLE: TABLE, ...keys }, '# first-run test'));
  const visible = (selector: string) => page.locator(selector).isVisible();
  /** The card alone: no banner, no pause, no panels, no panel's error, and no panel asked the helper. */
  const cardAlone = async () => {
    assert.equal(await visible('#helper-banner'), false, 'no banner behind the card');
    assert.equal(await visible('#pause-controls'), false);
    assert.equal(await visible('#dashboard-panels'), false, 'no panels behind the card');
    assert.doesNotMatch(await page.locator('body').innerText(), /Cannot load|not connected/);
    assert.deepEqual(
      bridge.calls.filter((call) => PANEL_CALLS.has(call.method)).map((call) => call.method),
      [],
      'no panel asked a helper that never answered',
    );
  };

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'dashboard.html')), 'build the renderer first: node scripts/build-renderer.mjs');
    lab = await createLab(['target']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-first-run-'));
    await writeFile(join(dir, 'ignore'), '# first-run test ignore list\n');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    bridge = await startRendererBridge({ socketPath: join(dir, 'run', 'helper.sock'), setup: (helper) => diagnoseHelper({ ...facts, helper }) });
    page = await (await browser.newContext({ viewport: { width: 1024, height: 700 } })).newPage();
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

  it('no helper at all: only the install card, with the exact command to run when there is no password prompt', async () => {
    await page.goto(`${bridge.url}/dashboard.html`);
    await page.locator('#setup[data-state="not-installed"]').waitFor({ timeout: 30_000 });
    await until('the command is on the card', async () => (await page.locator('#setup-command').innerText()) !== '');
    assert.equal(await page.locator('#setup-command').innerText(), `sudo '/bin/sh' '${INSTALLER}' '--user' 'root'`);
    assert.equal(await visible('#setup-action'), false, 'no button that could only say "run this"');
    assert.equal(await visible('#setup-elevation'), false, 'no password prompt is announced');
    await cardAlone();
  });

  it('helper stopped with a reason: the card says why (exit status and its last line)', async () => {
    await config({ BLOCK_TCP: '7' });
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-tcp']);
    const exit = await daemon.exited;
    assert.notEqual(exit.code, 0, daemon.lines.join('\n'));
    const last = daemon.lines.filter((line) => line.trim() !== '').at(-1) ?? '';
    // What systemctl show and journalctl say of such a stop, from this real exit.
    facts = { ...facts, installed: true, stoppedBecause: describeServiceStop(`Result=exit-code\nExecMainStatus=${exit.code}\n`, last) };
    daemon = undefined;
    await page.reload();
    await page.locator('#setup[data-state="not-running"]').waitFor({ timeout: 30_000 });
    const detail = await page.locator('#setup-detail').innerText();
    assert.ok(detail.includes(`It stopped: exit status ${exit.code}, systemd: exit-code, last log line: "${last.trim()}"`), detail);
    assert.equal(await page.locator('#setup-command').innerText(), "sudo '/usr/bin/systemctl' 'start' 'portsentryd'");
    await cardAlone();
  });

  it('helper up: the card goes, the banner says connected, the panels load', async () => {
    await config({ ADVANCED_PORTS_TCP: '1024' });
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-atcp']);
    await daemon.waitFor('Control socket listening on');
    await bridge.retry();
    await page.locator('#helper-banner.banner-connected').waitFor({ timeout: 30_000 });
    await page.locator('#setup').waitFor({ state: 'hidden', timeout: 30_000 });
    await page.locator('#blocks-empty').waitFor({ timeout: 30_000 });
    assert.equal(await visible('#dashboard-panels'), true);
    assert.equal(await visible('#pause-controls'), true);
    await until('the panels asked the helper', () => ['listEvents', 'listBlocks', 'stats'].every((method) => bridge.calls.some((call) => call.method === method)));
    assert.doesNotMatch(await page.locator('body').innerText(), /Cannot load|not connected/);
  });

  it('ran without a script error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
