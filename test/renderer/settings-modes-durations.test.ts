// The settings window's modes selector, its durations in human units and its errors in the
// fields' labels, in real Chromium against a real helper (portsentryd in a lab namespace,
// started without mode flags so MODES governs, as under the packaged services), through
// test/support/renderer-bridge.ts. A mode chosen in the window must really change what the
// helper runs; bad input must be refused in words with the settings file unchanged.
// Needs root, /usr/bin/chromium and a built renderer (scripts/build-renderer.mjs).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { createLab, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, type RendererBridge } from '../support/renderer-bridge.js';
import { startRendererRig, type RendererRig } from '../support/renderer-rig.js';
import { until } from '../support/wait.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const TABLE = `psset${process.pid}`.slice(0, 30);

describe('settings window: modes, durations in human units, errors in the labels’ words (real helper, Chromium)', { timeout: 180_000 }, () => {
  let lab: Lab<'target'>;
  let dir: string;
  let operatorFile: string;
  let rig: RendererRig | undefined;
  let bridge: RendererBridge;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  const openSettings = async (): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await bridge.install(page);
    await page.goto(`${bridge.url}/settings.html`);
    await until('the settings are loaded', async () => (await page.inputValue('#cfg-NFT_TABLE')) === TABLE);
    return page;
  };
  const helperStatus = (page: Page) => page.evaluate(() => (globalThis as unknown as { portsentry: { status(): Promise<{ modes: string[]; modesFrom?: string }> } }).portsentry.status());
  // Apply is aria-disabled while a field is wrong (still focusable, to say why): pressed from the keyboard.
  const pressApply = async (page: Page) => {
    await page.focus('#apply');
    await page.keyboard.press('Enter');
  };
  const fileText = () => readFile(operatorFile, 'utf8').catch(() => '<absent>');

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'settings.html')), 'build the renderer first: node scripts/build-renderer.mjs');
    lab = await createLab(['target']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-set-'));
    operatorFile = join(dir, 'operator-settings.conf');
    await mkdir(ARTIFACTS, { recursive: true });
    // No mode flags: MODES governs, as under the packaged services.
    rig = await startRendererRig(lab, lab.hosts.target, dir, {
      keys: { TCP_PORTS: '1,11,15,79', UDP_PORTS: '1,7,9', NFT_TABLE: TABLE },
      comment: '# settings window test',
      ignore: '# settings test ignore list\n',
    });
    ({ bridge } = rig);
    context = await rig.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await rig?.close();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('offers a TCP and a UDP mode with plain explanations, and a chosen mode really changes what the helper runs', async () => {
    const settings = await openSettings();
    assert.deepEqual([await settings.inputValue('#cfg-MODES'), await settings.inputValue('#cfg-MODES-udp')], ['tcp', 'udp'], 'MODES default, from the helper');
    assert.equal(
      await settings
        .locator('#cfg-MODES-label')
        .innerText()
        .then((t) => t.replace(/\s+/g, ' ')),
      'Detection modes MODES',
    );
    assert.equal(await settings.getAttribute('.mode-choices', 'aria-labelledby'), 'cfg-MODES-label');
    assert.match(await settings.locator('#cfg-MODES-explain').innerText(), /^TCP: Opens the TCP tripwire ports.*UDP: Opens the UDP tripwire ports/);
    // Both off: refused in words, nothing sent.
    await settings.selectOption('#cfg-MODES', '');
    await settings.selectOption('#cfg-MODES-udp', '');
    assert.equal(await settings.locator('#cfg-MODES-error').innerText(), '“Detection modes” must name at least one mode (tcp, udp, stcp, sudp, atcp, audp)');
    const before = await fileText();
    await pressApply(settings);
    assert.match(await settings.locator('#apply-status').innerText(), /^Not applied: 1 setting needs fixing/);
    assert.equal(await fileText(), before);
    // Advanced TCP, classic UDP: applied live.
    await settings.selectOption('#cfg-MODES', 'atcp');
    await settings.selectOption('#cfg-MODES-udp', 'udp');
    assert.match(await settings.locator('#cfg-MODES-explain').innerText(), /^TCP: Watches every TCP port below the limit that nothing on this computer listens on/);
    await settings.click('#apply');
    await until('applied', async () => (await settings.locator('#apply-status').innerText()) === 'Applied: Detection modes.');
    assert.match(await fileText(), /^MODES="atcp udp"$/m);
    await until('the helper runs the new modes', async () => JSON.stringify((await helperStatus(settings)).modes) === '["atcp","udp"]');
    assert.equal((await helperStatus(settings)).modesFrom, 'config');
    await settings.reload();
    await until('reads back', async () => (await settings.inputValue('#cfg-MODES')) === 'atcp');
    await settings.locator('.field-row[data-key="MODES"]').screenshot({ path: join(ARTIFACTS, 'settings-modes.png') });
    await settings.close();
  });

  it('shows durations in human units and stores them in the key’s own unit, exactly', async () => {
    const settings = await openSettings();
    const shown = async (key: string) => [await settings.inputValue(`#cfg-${key}`), await settings.inputValue(`#cfg-${key}-unit`)];
    assert.deepEqual(await shown('SCAN_TRIGGER_WINDOW'), ['1', 'hours'], '3600 seconds');
    assert.deepEqual(await shown('EVENT_RETENTION_DAYS'), ['90', 'days']);
    assert.deepEqual(await shown('BLOCK_TIMEOUT'), ['0', 'hours']);
    assert.equal(await settings.getAttribute('#cfg-BLOCK_TIMEOUT-unit', 'aria-label'), 'Block lasts: unit');
    assert.match(await settings.locator('label[for="cfg-BLOCK_TIMEOUT"]').innerText(), /^Block lasts\s+BLOCK_TIMEOUT$/);
    await settings.fill('#cfg-SCAN_TRIGGER_WINDOW', '30');
    await settings.selectOption('#cfg-SCAN_TRIGGER_WINDOW-unit', 'minutes');
    await settings.fill('#cfg-BLOCK_TIMEOUT', '1.5');
    await settings.selectOption('#cfg-BLOCK_TIMEOUT-unit', 'days');
    await settings.fill('#cfg-EVENT_RETENTION_DAYS', '7');
    await settings.click('#apply');
    await until('applied', async () => /^Applied: /.test(await settings.locator('#apply-status').innerText()));
    assert.equal(await settings.locator('#apply-status').innerText(), 'Applied: Counting window, Block lasts, Keep events for.');
    const text = await fileText();
    assert.match(text, /^SCAN_TRIGGER_WINDOW="1800"$/m, 'the file keeps seconds');
    assert.match(text, /^BLOCK_TIMEOUT="129600"$/m);
    assert.match(text, /^EVENT_RETENTION_DAYS="7"$/m, 'and days');
    await settings.reload();
    await until('reads back', async () => (await settings.inputValue('#cfg-SCAN_TRIGGER_WINDOW')) === '30');
    assert.deepEqual(await shown('SCAN_TRIGGER_WINDOW'), ['30', 'minutes']);
    assert.deepEqual(await shown('BLOCK_TIMEOUT'), ['36', 'hours']);
    await settings.close();
  });

  it('refuses bad durations in words (negative, too large, garbage, not whole): Apply refused, file unchanged', async () => {
    const settings = await openSettings();
    const before = await fileText();
    for (const [key, amount, unit, message] of [
      ['BLOCK_TIMEOUT', '-5', 'minutes', 'Block lasts cannot be negative'],
      ['BLOCK_TIMEOUT', '4000', 'days', 'Block lasts must be between 0 seconds and 3650 days, not 4000 days'],
      ['BLOCK_TIMEOUT', 'soon', 'hours', 'Block lasts: "soon" is not a number of hours (write e.g. 30 or 1.5)'],
      ['SCAN_TRIGGER_WINDOW', '0.5', 'seconds', 'Counting window: 0.5 seconds is not a whole number of seconds'],
      ['SCAN_TRIGGER_WINDOW', '31', 'days', 'Counting window must be between 1 second and 30 days, not 31 days'],
      ['EVENT_RETENTION_DAYS', '0', 'days', 'Keep events for must be between 1 day and 36500 days, not 0 days'],
    ] as const) {
      await settings.fill(`#cfg-${key}`, amount);
      await settings.selectOption(`#cfg-${key}-unit`, unit);
      assert.equal(await settings.locator(`#cfg-${key}-error`).innerText(), message, `${amount} ${unit}`);
      assert.equal(await settings.getAttribute(`#cfg-${key}`, 'aria-invalid'), 'true');
      if (amount === '-5') await settings.locator(`.field-row[data-key="${key}"]`).screenshot({ path: join(ARTIFACTS, 'settings-duration-error.png') });
      const calls = bridge.calls.length;
      await pressApply(settings);
      assert.match(await settings.locator('#apply-status').innerText(), /^Not applied: .*Nothing was changed\.$/);
      assert.equal(bridge.calls.slice(calls).filter((c) => c.method === 'setConfig').length, 0, 'nothing sent to the helper');
      await settings.click('#revert');
    }
    assert.equal(await fileText(), before, 'the settings file is unchanged');
    await settings.close();
  });

  it('a refusal from the helper itself names the field by its label, and changes nothing', async () => {
    const settings = await openSettings();
    const before = await fileText();
    // Each value is valid alone, so the window lets it through; the helper refuses the pair
    // (the UDP mode needs UDP tripwire ports) and its sentence names keys: the window maps them.
    await settings.selectOption('#cfg-MODES-udp', 'sudp');
    await settings.fill('#cfg-UDP_PORTS', '');
    await settings.click('#apply');
    await until('the refusal is shown', async () => /did not accept/.test(await settings.locator('#apply-status').innerText()));
    assert.equal(await settings.locator('#apply-status').innerText(), 'The helper did not accept these settings; nothing was changed: “UDP tripwire ports” lists no ports, but mode -sudp needs them');
    assert.equal(await fileText(), before);
    assert.deepEqual((await helperStatus(settings)).modes, ['atcp', 'udp']);
    await settings.close();
  });

  it('ran without a script error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
