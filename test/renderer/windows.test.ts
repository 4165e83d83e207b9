// The dashboard and settings windows in real Chromium, against a real helper: portsentryd in
// a lab namespace (nftables blocks, a socat service on 8080), reached through
// test/support/renderer-bridge.ts. A real nmap scan must show up live; the page's buttons
// must really change the firewall; bad input must be stopped in the page with words and
// change nothing; everything must be reachable by keyboard, in both themes.
// Needs root, /usr/bin/chromium and a built renderer (scripts/build-renderer.mjs).

import { blockedSetsText, helperConfigText, startTcpService } from '../support/helper-config.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, startRendererBridge, type RendererBridge } from '../support/renderer-bridge.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const TABLE = `psui${process.pid}`.slice(0, 30);
const SERVICE_PORT = 8080;

// Page-side code (the page.evaluate callbacks) runs in Chromium; the main build has no DOM
// types, so the little of the DOM those callbacks use is declared here, for this module only.
interface PageElement {
  readonly id: string;
  readonly outerHTML: string;
  readonly disabled?: boolean;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  getClientRects(): { readonly length: number };
  closest(selector: string): PageElement | null;
  blur(): void;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<PageElement> & ArrayLike<PageElement>;
  querySelector(selector: string): PageElement | null;
  readonly activeElement: PageElement | null;
  readonly documentElement: { readonly dataset: Record<string, string | undefined>; readonly scrollHeight: number };
  readonly body: PageElement;
};
declare function getComputedStyle(element: PageElement): { readonly color: string; readonly backgroundColor: string; readonly outlineStyle: string };

/** WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)"). */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, bl] = (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Presses Tab until focus comes back round and returns what it never reached: every
 * visible, enabled control and tab stop on the page must be among those visited.
 */
async function unreachableByTab(page: Page): Promise<string[]> {
  const total = await page.evaluate(() => {
    const candidates = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex="0"]')];
    // Inside a grid (a table that is one tab stop) the arrow keys reach the rest: only its current stop counts here.
    const inGridOffStop = (el: PageElement) => el.closest('[role="grid"]') !== null && el.getAttribute('tabindex') === '-1';
    const reachable = candidates.filter((el) => el.getClientRects().length > 0 && el.closest('[hidden]') === null && el.disabled !== true && !inGridOffStop(el));
    reachable.forEach((el, i) => el.setAttribute('data-tab-check', String(i)));
    document.activeElement?.blur();
    return reachable.length;
  });
  const seen = new Set<string>();
  for (let i = 0; i < total + 10; i++) {
    await page.keyboard.press('Tab');
    const mark = await page.evaluate(() => document.activeElement?.getAttribute('data-tab-check') ?? null);
    if (mark !== null) seen.add(mark);
    if (seen.size === total) break;
  }
  return page.evaluate(
    (visited) => {
      const missing: string[] = [];
      for (const el of Array.from(document.querySelectorAll('[data-tab-check]'))) {
        if (!visited.includes(el.getAttribute('data-tab-check') ?? '')) missing.push(el.id || el.getAttribute('aria-label') || el.outerHTML.slice(0, 80));
      }
      return missing;
    },
    [...seen],
  );
}

describe('the dashboard and settings windows against a real helper', { timeout: 90_000 }, () => {
  let lab: Lab<'target' | 'scanner'>;
  let dir: string;
  let conf: string;
  let daemon: DaemonProcess;
  let service: ReturnType<Lab['spawn']>;
  let bridge: RendererBridge;
  let browser: Browser;
  let context: BrowserContext;
  let dashboard: Page;
  /** Script errors and CSP refusals (an inline style or script would show up here). */
  const pageErrors: string[] = [];

  const nftTable = () => blockedSetsText(lab, lab.hosts.target, TABLE);
  const openPage = async (path: string): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) pageErrors.push(`${path}: ${message.text()}`);
    });
    await bridge.install(page);
    await page.goto(`${bridge.url}/${path}`);
    return page;
  };
  const blockRow = (address: string) => dashboard.locator(`#blocks-body tr[data-address="${address}"]`);

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'dashboard.html')), 'build the renderer first: node scripts/build-renderer.mjs');
    lab = await createLab(['target', 'scanner']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-ui-'));
    conf = join(dir, 'portsentry.conf');
    await writeFile(join(dir, 'ignore'), '# ui test ignore list\n');
    await writeFile(conf, helperConfigText(dir, { TCP_PORTS: '1,11,15,79,111,143,31337', UDP_PORTS: '1,7,9', NFT_TABLE: TABLE }, '# renderer test'));
    service = await startTcpService(lab, lab.hosts.target, SERVICE_PORT);
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, '-tcp', '-stcp']);
    [browser] = await Promise.all([
      chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }),
      daemon.waitFor('Control socket listening on'),
      mkdir(ARTIFACTS, { recursive: true }),
    ]);
    bridge = await startRendererBridge({ socketPath: join(dir, 'run', 'helper.sock') });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', acceptDownloads: true });
    dashboard = await openPage('dashboard.html');
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await bridge?.close();
    service?.kill();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('shows a real nmap -sS scan live, with the block it caused, and announces it', async () => {
    const { target, scanner } = lab.hosts;
    await dashboard.locator('#helper-banner.banner-connected').waitFor({ timeout: 10_000 });
    await dashboard.locator('#probes-section > summary').click(); // the per-probe list is folded under the scanner list
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), true, 'the service is reachable before the scan');
    await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79', target.v4]);
    await lab.exec(scanner, ['nmap', '-6', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79', target.v6]);
    const rows = dashboard.locator('#events-body tr', { hasText: scanner.v4 });
    await rows.first().waitFor({ timeout: 10_000 });
    const cells = await rows.last().locator('td').allInnerTexts();
    assert.equal(cells[1], scanner.v4);
    assert.match(cells[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.ok(['1', '11', '15', '79'].includes(cells[3]!), cells.join(' | '));
    assert.deepEqual([cells[4], cells[5]], ['TCP', 'SYN (half-open)']);
    assert.equal((await rows.filter({ hasText: 'Blocked' }).count()) >= 1, true, 'the triggering scan shows its action');
    await blockRow(scanner.v4).waitFor({ timeout: 5000 });
    await blockRow(scanner.v6).waitFor({ timeout: 5000 });
    await dashboard.locator('#events-body tr', { hasText: scanner.v6 }).first().waitFor({ timeout: 5000 });
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), false, 'the scanner is really blocked');
    assert.equal(await tcpReachable(lab, scanner, target.v6, SERVICE_PORT), false, 'on IPv6 too');
    await until('the live region announced it', async () => /New scan|new scans/.test(await dashboard.locator('#live-announcer').innerText()));
    // The charts are the helper's statistics, refreshed a few seconds after new scans.
    const topScanners = new RegExp(`Top scanners: (.+, )?${scanner.v4.replace(/\./g, '\\.')} \\d`);
    await until('the helper statistics name the scanner', async () => topScanners.test((await dashboard.locator('#chart-hosts svg').getAttribute('aria-label')) ?? ''));
    assert.ok((await dashboard.locator('#chart-time svg rect').count()) >= 1, 'the time chart has a bar');
  });

  it('filters, searches, exports CSV and JSON, and focuses an event on request', async () => {
    const { scanner } = lab.hosts;
    const shown = await dashboard.locator('#events-body tr', { hasText: scanner.v4 }).count();
    assert.ok((await dashboard.locator('#events-body tr').count()) > shown, 'scans from other addresses are listed too');
    await dashboard.fill('#filter-host', 'not-an-address');
    await dashboard.locator('#filter-host-error').waitFor();
    await dashboard.fill('#filter-host', scanner.v4);
    await dashboard.selectOption('#filter-kind', 'connect');
    await until('the kind filter empties the list', async () => (await dashboard.locator('#events-body tr').count()) === 0);
    await dashboard.selectOption('#filter-kind', 'syn');
    await until('the list is back', async () => (await dashboard.locator('#events-body tr').count()) === shown);
    await dashboard.fill('#filter-search', 'nothing-like-this');
    await until('search hides every row', async () => (await dashboard.locator('#events-body tr').count()) === 0);
    await dashboard.fill('#filter-search', 'half-open');
    await until('search matches the shown labels', async () => (await dashboard.locator('#events-body tr').count()) === shown);

    const [csvDownload] = await Promise.all([dashboard.waitForEvent('download'), dashboard.click('#export-csv')]);
    const csv = await readFile((await csvDownload.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], 'id,time,host,name,port,protocol,kind,action,mode,reason');
    assert.equal(lines.length, shown + 1);
    assert.ok(lines.slice(1).every((line) => line.includes(`,${scanner.v4},`) && line.includes(',tcp,syn,')));
    const [jsonDownload] = await Promise.all([dashboard.waitForEvent('download'), dashboard.click('#export-json')]);
    const exported = JSON.parse(await readFile((await jsonDownload.path())!, 'utf8')) as Array<{ source: string; type: string }>;
    assert.equal(exported.length, shown);
    assert.ok(exported.every((e) => e.type === 'scan' && e.source === scanner.v4));

    await dashboard.click('#filters-clear');
    const oldest = Number(await dashboard.locator('#events-body tr').last().getAttribute('data-id'));
    bridge.focusEvent(oldest);
    await until('the event has focus', async () => (await dashboard.evaluate(() => document.activeElement?.getAttribute('data-id') ?? null)) === String(oldest));
    assert.match((await dashboard.locator(`#events-body tr[data-id="${oldest}"]`).getAttribute('class')) ?? '', /focused-event/);
    await dashboard.keyboard.press('ArrowUp');
    const ids = await dashboard.locator('#events-body tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    assert.equal(await dashboard.evaluate(() => document.activeElement?.getAttribute('data-id') ?? null), ids[ids.length - 2], `arrow keys move between rows ${ids.join(',')}`);
  });

  it('lifts the block with one click on Unblock: the scanner can connect again', async () => {
    const { target, scanner } = lab.hosts;
    for (const address of [scanner.v4, scanner.v6]) {
      await dashboard.click(`button[aria-label="Unblock ${address}"]`);
      await blockRow(address).waitFor({ state: 'detached', timeout: 5000 });
      assert.match(await dashboard.locator('#blocks-status').innerText(), /is unblocked/);
      assert.ok(bridge.calls.some((c) => c.method === 'unblock' && (c.args[0] as { address?: string }).address === address));
    }
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), true, 'traffic passes again');
    assert.equal(await tcpReachable(lab, scanner, target.v6, SERVICE_PORT), true, 'on IPv6 too');
  });

  it('blocks an address typed by hand, and refuses hostile or protected input in words', async () => {
    const { target, scanner } = lab.hosts;
    await dashboard.fill('#block-address', ` ${scanner.v6.toUpperCase()} `);
    await dashboard.fill('#block-reason', 'typed in the dashboard');
    await dashboard.click('#block-submit');
    await blockRow(scanner.v6).waitFor({ timeout: 5000 });
    assert.match(await blockRow(scanner.v6).innerText(), /typed in the dashboard/);
    assert.equal(await tcpReachable(lab, scanner, target.v6, SERVICE_PORT), false, 'the hand block is real');
    assert.match(await nftTable(), new RegExp(scanner.v6));

    const callsBefore = bridge.calls.length;
    const tableBefore = await nftTable();
    await dashboard.fill('#block-address', '1.2.3.4; reboot');
    await dashboard.click('#block-submit');
    const error = dashboard.locator('#block-address-error');
    await error.waitFor();
    assert.match(await error.innerText(), /"1\.2\.3\.4; reboot" is not an IPv4 or IPv6 address/);
    assert.equal(await dashboard.locator('#block-address').getAttribute('aria-invalid'), 'true');
    assert.equal(await dashboard.evaluate(() => document.activeElement?.id), 'block-address', 'focus goes to the field to fix');
    assert.equal(bridge.calls.slice(callsBefore).filter((c) => c.method === 'block').length, 0, 'nothing was sent to the helper');
    assert.equal(await nftTable(), tableBefore, 'nothing was blocked');
    assert.doesNotMatch(await nftTable(), /1\.2\.3\.4/);

    // A valid address the helper refuses: its own. The refusal comes back in words.
    await dashboard.fill('#block-address', target.v4);
    await dashboard.click('#block-submit');
    await until('the helper refusal is shown', async () => /Not allowed to block/.test(await dashboard.locator('#blocks-status').innerText()));
    assert.equal(await blockRow(target.v4).count(), 0);

    await dashboard.click(`button[aria-label="Unblock ${scanner.v6}"]`);
    await blockRow(scanner.v6).waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await tcpReachable(lab, scanner, target.v6, SERVICE_PORT), true);
  });

  it('settings: bad values are marked as you type, Apply refuses them and the file stays as it was', async () => {
    const settings = await openPage('settings.html');
    await until('the settings are loaded', async () => (await settings.inputValue('#cfg-NFT_TABLE')) === TABLE);
    assert.equal(await settings.inputValue('#cfg-SCAN_TRIGGER'), '0', 'keys the file leaves out show their default');
    assert.match(await settings.locator('label[for="cfg-SCAN_TRIGGER"]').innerText(), /Touches before acting\s+SCAN_TRIGGER/);
    // This helper runs with mode flags: the window says they win over the modes setting.
    assert.match(await settings.locator('#cfg-MODES-hint').innerText(), /set in the command line \(-tcp -stcp\), which wins over “Detection modes” until the helper runs without mode flags/);
    const fileBefore = await readFile(conf, 'utf8');

    await settings.fill('#cfg-SCAN_TRIGGER', 'lots');
    assert.equal(await settings.locator('#cfg-SCAN_TRIGGER-error').innerText(), '“Touches before acting” must be a whole number, not "lots"');
    assert.equal(await settings.getAttribute('#cfg-SCAN_TRIGGER', 'aria-invalid'), 'true');
    await settings.fill('#cfg-TCP_PORTS', '1,99999');
    assert.equal(await settings.locator('#cfg-TCP_PORTS-error').innerText(), '“TCP tripwire ports”: port 99999 is outside 1-65535');
    assert.equal(await settings.getAttribute('#apply', 'aria-disabled'), 'true');
    const callsBefore = bridge.calls.length;
    // aria-disabled, not disabled: Apply stays reachable and says why it refuses.
    await settings.focus('#apply');
    await settings.keyboard.press('Enter');
    assert.match(await settings.locator('#apply-status').innerText(), /Not applied: 2 settings need fixing.*Nothing was changed/);
    assert.equal(bridge.calls.slice(callsBefore).filter((c) => c.method === 'setConfig').length, 0, 'nothing was sent');
    assert.equal(await readFile(conf, 'utf8'), fileBefore, 'the config file is unchanged');

    await settings.click('#revert');
    assert.equal(await settings.inputValue('#cfg-SCAN_TRIGGER'), '0');
    assert.equal(await settings.locator('#cfg-TCP_PORTS-error').isVisible(), false);
    await settings.close();
  });

  it('settings: when the helper itself refuses, its reason is shown and nothing changes', async () => {
    const settings = await openPage('settings.html');
    await until('the settings are loaded', async () => (await settings.inputValue('#cfg-NFT_TABLE')) === TABLE);
    const operatorFile = join(dir, 'operator-settings.conf');
    await writeFile(operatorFile, '# operator settings\n');
    const fileBefore = await readFile(operatorFile, 'utf8');
    // An immutable file: the helper validates the change, then cannot put the new file in place.
    await run('chattr', ['+i', operatorFile]);
    try {
      await settings.fill('#cfg-SCAN_TRIGGER', '3');
      await settings.click('#apply');
      // The helper's reason reaches the user in words: which file, and why it could not be written.
      await until('the refusal is shown', async () =>
        /^The helper did not accept these settings; nothing was changed: cannot write .*operator-settings\.conf: EPERM$/.test(await settings.locator('#apply-status').innerText()),
      );
      assert.equal(await readFile(operatorFile, 'utf8'), fileBefore, 'the settings file is unchanged');
      assert.equal(await settings.inputValue('#cfg-SCAN_TRIGGER'), '3', 'the edit stays in the form, to retry or revert');
    } finally {
      await run('chattr', ['-i', operatorFile]);
    }
    await settings.close();
  });

  it("settings: root's keys are shown read-only with the reason, and the helper refuses them even from a hostile page", async () => {
    const settings = await openPage('settings.html');
    await until('the settings are loaded', async () => (await settings.inputValue('#cfg-NFT_TABLE')) === TABLE);
    for (const key of ['KILL_ROUTE', 'KILL_RUN_CMD', 'IGNORE_FILE', 'HISTORY_FILE', 'NFT_TABLE', 'RPC_SOCKET', 'RPC_GROUP', 'STORE_FILE']) {
      assert.equal(await settings.getAttribute(`#cfg-${key}`, 'readonly'), '', `${key} is read-only`);
      const reason = await settings.locator(`#cfg-${key}-rootonly`).innerText();
      // In the label's words; the command root would type keeps the key.
      assert.match(reason, new RegExp(`^“[^”]+” names .*only root may change it: edit ${conf.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} as root.*config set ${key}=`), key);
      assert.match((await settings.getAttribute(`#cfg-${key}`, 'aria-describedby')) ?? '', new RegExp(`cfg-${key}-rootonly`), 'the reason is read out with the field');
    }
    for (const key of ['BLOCK_BACKEND', 'KILL_RUN_CMD_FIRST']) assert.equal(await settings.isDisabled(`#cfg-${key}`), true, key);
    assert.equal(await settings.isEditable('#cfg-SCAN_TRIGGER'), true, 'a tunable stays editable');
    // Typing into a read-only field does nothing.
    await settings.focus('#cfg-KILL_ROUTE');
    await settings.keyboard.type('/bin/sh');
    assert.equal(await settings.inputValue('#cfg-KILL_ROUTE'), '');
    // A compromised page calls the API directly: the helper itself refuses, in words, and nothing changes.
    const before = await readFile(conf, 'utf8');
    const refusal = await settings.evaluate(() =>
      (globalThis as unknown as { portsentry: { setConfig(p: unknown): Promise<unknown> } }).portsentry.setConfig({ changes: { KILL_RUN_CMD: '/usr/bin/touch /tmp/pwned' } }).then(
        () => 'accepted',
        (error: Error) => error.message,
      ),
    );
    assert.match(refusal, /KILL_RUN_CMD names a program, so only root may change it/);
    assert.equal(await readFile(conf, 'utf8'), before);
    await settings.screenshot({ path: join(ARTIFACTS, 'settings-root-only.png'), fullPage: true });
    await settings.close();
  });

  it('settings: a good change is applied with only the changed key and reads back; preferences too', async () => {
    const settings = await openPage('settings.html');
    await until('the settings are loaded', async () => (await settings.inputValue('#cfg-NFT_TABLE')) === TABLE);
    await settings.fill('#cfg-SCAN_TRIGGER', '2');
    await settings.selectOption('#pref-theme', 'dark');
    const callsBefore = bridge.calls.length;
    await settings.click('#apply');
    await until('applied', async () => /^Applied: Touches before acting, theme\.$/.test(await settings.locator('#apply-status').innerText()));
    const sent = bridge.calls.slice(callsBefore).filter((c) => c.method === 'setConfig');
    assert.deepEqual(
      sent.map((c) => c.args),
      [[{ changes: { SCAN_TRIGGER: '2' } }]],
      'only the changed key is sent',
    );
    assert.match(await readFile(join(dir, 'operator-settings.conf'), 'utf8'), /^SCAN_TRIGGER="2"$/m, 'a tunable goes to the operator settings file');
    assert.doesNotMatch(await readFile(conf, 'utf8'), /SCAN_TRIGGER/, "root's own file is not touched");
    await daemon.waitFor('Configuration reloaded');
    assert.equal(bridge.preferences.theme, 'dark');
    await settings.reload();
    await until('the value reads back', async () => (await settings.inputValue('#cfg-SCAN_TRIGGER')) === '2');
    assert.equal(await settings.evaluate(() => document.documentElement.dataset['theme']), 'dark');
    // Put the preference back so the theme test starts from "system".
    await settings.selectOption('#pref-theme', 'system');
    await settings.click('#apply');
    await until('theme back to system', () => bridge.preferences.theme === 'system');
    await settings.close();
  });

  it('every control of both windows is reachable with Tab, with a visible focus ring', async () => {
    assert.deepEqual(await unreachableByTab(dashboard), [], 'dashboard');
    await dashboard.focus('#block-submit');
    await dashboard.keyboard.press('Shift+Tab');
    await dashboard.keyboard.press('Tab');
    assert.equal(await dashboard.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'solid');
    const settings = await openPage('settings.html');
    await until('the settings are loaded', async () => (await settings.inputValue('#cfg-NFT_TABLE')) === TABLE);
    assert.deepEqual(await unreachableByTab(settings), [], 'settings');
    await settings.close();
  });

  it('renders light and dark themes (system choice and pinned) with readable contrast; screenshots', async () => {
    const settings = await openPage('settings.html');
    await until('the settings are loaded', async () => (await settings.inputValue('#cfg-NFT_TABLE')) === TABLE);
    await settings.fill('#cfg-SCAN_TRIGGER', 'lots'); // show an inline error in the screenshots
    for (const scheme of ['light', 'dark'] as const) {
      for (const [name, page] of [
        ['dashboard', dashboard],
        ['settings', settings],
      ] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const colours = await page.evaluate(() => {
          const style = (selector: string) => {
            const el = document.querySelector(selector)!;
            return { color: getComputedStyle(el).color, background: getComputedStyle(el).backgroundColor };
          };
          const panel = getComputedStyle(document.querySelector('.panel')!).backgroundColor;
          return {
            body: style('body'),
            panel,
            hint: getComputedStyle(document.querySelector('.hint, .meta')!).color,
            banner: style('#helper-banner'),
            error: style('.field-error, #filter-host-error'),
          };
        });
        const expected = scheme === 'light' ? 'rgb(245, 246, 248)' : 'rgb(20, 23, 27)';
        assert.equal(colours.body.background, expected, `${name} ${scheme} background`);
        for (const [what, ratio] of [
          ['body text', contrast(colours.body.color, colours.body.background)],
          ['muted text on a panel', contrast(colours.hint, colours.panel)],
          ['banner', contrast(colours.banner.color, colours.banner.background)],
          ['error', contrast(colours.error.color, colours.error.background)],
        ] as const) {
          assert.ok(ratio >= 4.5, `${name} ${scheme}: ${what} contrast ${ratio.toFixed(2)} is below 4.5`);
        }
        // A viewport as tall as the page: sticky header and Apply bar then sit where they belong.
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        await page.setViewportSize({ width: 1280, height: Math.max(900, Math.min(height, 4000)) });
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${scheme}.png`) });
        await page.setViewportSize({ width: 1280, height: 900 });
      }
    }
    // The preference pins a theme whatever the system says.
    await dashboard.emulateMedia({ colorScheme: 'light' });
    await dashboard.evaluate(() => (document.documentElement.dataset['theme'] = 'dark'));
    assert.equal(await dashboard.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(20, 23, 27)');
    await dashboard.evaluate(() => delete document.documentElement.dataset['theme']);
    await settings.close();
  });

  it('says so, with the reason, when the helper goes away', async () => {
    await daemon.stop();
    const banner = dashboard.locator('#helper-banner.banner-unreachable');
    await banner.waitFor({ timeout: 5000 });
    assert.match(await banner.innerText(), /helper is unreachable \(connection lost\): .*closed the connection/);
    assert.equal(await dashboard.isDisabled('#pause-toggle'), true);
  });

  it('ran without a script error or a Content Security Policy refusal in any window', () => {
    assert.deepEqual(pageErrors, []);
  });
});
