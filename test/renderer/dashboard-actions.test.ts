// The dashboard as a user acts on it, in real Chromium against a real helper in a lab
// namespace: a real nmap scan, then Unblock on screen without scrolling at 1280x800 and
// 1024x700 (light and dark, screenshots), search, multi-select unblock, extend (the kernel's
// own timeout grows), a range block that really blocks a second host in it, event row
// actions, the per-scanner view listing exactly the ports nmap touched, the time range, the
// helper's statistics unchanged by paging the list, the timed pause, the header's status
// details, and the first-run view's states and actions.
// Needs root, /usr/bin/chromium, nmap and a built renderer (scripts/build-renderer.mjs).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HelperFix, HelperSetup, HelperState } from '../../shared/desktop-api.js';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText, startTcpService } from '../support/helper-config.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, defaultSetup, startRendererBridge, type RendererBridge } from '../support/renderer-bridge.js';
import { until } from '../support/wait.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const TABLE = `psda${process.pid}`.slice(0, 30);
const SERVICE_PORT = 8080;
/** nmap's ports: all watched in -atcp (ADVANCED_PORTS_TCP 1024, nothing excluded below 301). */
const SCANNED = '1-300';

// The little of the DOM the page.evaluate callbacks use (the main build has no DOM types).
interface PageElement {
  readonly id: string;
  readonly tagName: string;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  getBoundingClientRect(): { top: number; bottom: number; left: number; right: number; height: number };
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  readonly activeElement: PageElement | null;
};
declare const window: { readonly scrollY: number; readonly innerHeight: number; readonly innerWidth: number };
declare function getComputedStyle(element: PageElement): { readonly whiteSpace: string };

describe('acting on what the dashboard shows, against a real helper', { timeout: 240_000 }, () => {
  let lab: Lab<'target' | 'scanner' | 'neighbour' | 'inrange'>;
  let dir: string;
  let daemon: DaemonProcess;
  let service: ReturnType<Lab['spawn']>;
  let bridge: RendererBridge;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let helper: HelperClient;
  let setupOverride: ((state: HelperState) => HelperSetup) | null = null;
  let fixAction: ((action: HelperFix) => Promise<{ done: boolean; message: string }>) | null = null;
  const pageErrors: string[] = [];
  const SEEDED = ['198.18.0.40', '198.18.0.41', '198.18.0.42', '198.18.0.43'];
  const LONG_REASON = 'seeded by the test: a long reason that would wrap word by word and make the row as tall as a paragraph if it were not cut to one line';

  const nft = () => blockedSetsText(lab, lab.hosts.target, TABLE);
  const blockRow = (address: string) => page.locator(`#blocks-body tr[data-address="${address}"]`);
  const startHelper = () => {
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-atcp']);
    return daemon.waitFor('Control socket listening on');
  };

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'dashboard.html')), 'build the renderer first: node scripts/build-renderer.mjs');
    lab = await createLab(['target', 'scanner', 'neighbour', 'inrange']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-dash-'));
    await writeFile(join(dir, 'ignore'), '# dashboard test ignore list\n');
    await writeFile(
      join(dir, 'portsentry.conf'),
      helperConfigText(dir, { NFT_TABLE: TABLE, ADVANCED_PORTS_TCP: '1024', ADVANCED_EXCLUDE_TCP: '1000', BLOCK_TIMEOUT: '3600' }, '# dashboard actions test'),
    );
    service = await startTcpService(lab, lab.hosts.target, SERVICE_PORT);
    [browser] = await Promise.all([chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }), startHelper(), mkdir(ARTIFACTS, { recursive: true })]);
    const socketPath = join(dir, 'run', 'helper.sock');
    helper = await HelperClient.connect(socketPath);
    bridge = await startRendererBridge({
      socketPath,
      setup: (state) => setupOverride?.(state) ?? defaultSetup(state),
      fix: async (action) => (fixAction === null ? { done: true as const, message: 'done' } : ((await fixAction(action)) as { done: true; message: string })),
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) pageErrors.push(message.text());
    });
    await bridge.install(page);
    await page.goto(`${bridge.url}/dashboard.html`);
    await page.locator('#helper-banner.banner-connected').waitFor({ timeout: 15_000 });
    await page.locator('#probes-section > summary').click(); // the per-probe list is folded under the scanner list
  });

  after(async () => {
    helper?.close();
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await bridge?.close();
    service?.kill();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('shows the status details in the header and pauses for a chosen time', async () => {
    await until('the header has the details', async () => /Modes: advanced TCP · capture running · up \d+ s/.test(await page.locator('#helper-details').innerText()));
    await page.selectOption('#pause-duration', '900');
    await page.click('#pause-toggle');
    await until('paused with an end time', async () => /paused until \d\d:\d\d/.test(await page.locator('#helper-banner-text').innerText()));
    const status = await helper.call('status', {});
    assert.equal(status.paused, true);
    assert.ok(status.pausedUntil !== null && status.pausedUntil !== undefined && Math.abs(status.pausedUntil - (Date.now() + 900_000)) < 60_000, String(status.pausedUntil));
    assert.equal(await page.locator('#pause-duration').isVisible(), false, 'no duration to choose while paused');
    await page.click('#pause-toggle');
    await until('resumed', async () => /Protected/.test(await page.locator('#helper-banner-text').innerText()));
    assert.equal((await helper.call('status', {})).paused, false);
  });

  it('a real nmap scan: its per-scanner view lists exactly the ports nmap touched, with first and last seen and the kind', async () => {
    const { target, scanner } = lab.hosts;
    // Paused, the helper records every probe (blocked, a scanner's further probes are summed
    // up once a minute), so the whole scan reaches the store and the view.
    await helper.call('pause', {});
    await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', SCANNED, target.v4], { timeoutMs: 120_000 });
    let seen = 0;
    await until(`the helper stored the whole scan (${seen} ports so far)`, async () => (seen = (await helper.call('stats', { host: scanner.v4 })).distinctPorts) === 300).catch((error: Error) => {
      throw new Error(`${error.message}; ${seen} ports stored; helper log:\n${daemon.lines.slice(-30).join('\n')}`);
    });
    await helper.call('resume', {});
    await page.locator(`#events-body button.host-link:text-is("${scanner.v4}")`).first().click();
    const dialog = page.locator('#scanner-view');
    await dialog.waitFor({ state: 'visible' });
    await until('the view is filled', async () => (await page.locator('#scanner-ports').innerText()) !== '');
    assert.equal(await page.locator('#scanner-heading').innerText(), `Scanner ${scanner.v4}`);
    assert.equal(await page.locator('#scanner-ports').innerText(), `TCP: ${SCANNED}`, 'every port nmap sent to, as ranges');
    assert.equal(await page.locator('#scanner-port-count').innerText(), '300 ports');
    assert.match(await page.locator('#scanner-kinds').innerText(), /^SYN \(half-open\) \(\d+\)$/);
    assert.match(await page.locator('#scanner-first').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(await page.locator('#scanner-last').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // The view's own Block button really blocks the scanner.
    assert.equal(await page.locator('#scanner-toggle-block').innerText(), 'Block this host');
    await page.click('#scanner-toggle-block');
    await until('the view offers Unblock', async () => (await page.locator('#scanner-toggle-block').innerText()) === 'Unblock this host');
    await blockRow(scanner.v4).waitFor({ timeout: 10_000 });
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), false, 'the scanner is blocked');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('statistics come from the helper over the whole store and do not change when the list is paged', async () => {
    // A fresh window lists one page (the live list above grew with the scan instead).
    await page.reload();
    await page.locator('#helper-banner.banner-connected').waitFor({ timeout: 15_000 });
    await page.locator('#probes-section > summary').click(); // the per-probe list is folded under the scanner list
    await until('a page of scans is listed, with more to load', async () => (await page.locator('#events-body tr').count()) > 0 && (await page.locator('#load-older').isVisible()));
    await until(
      'the statistics count the whole scan',
      async () =>
        Number(
          await page
            .locator('#stats-total')
            .innerText()
            .catch(() => '0'),
        ) >= 300,
      20_000,
    );
    const read = () =>
      page.evaluate(() => ({
        total: document.querySelector('#stats-total')?.textContent ?? '',
        hosts: document.querySelector('#chart-hosts svg')?.getAttribute('aria-label') ?? '',
        ports: document.querySelector('#chart-ports svg')?.getAttribute('aria-label') ?? '',
        time: document.querySelector('#chart-time svg')?.getAttribute('aria-label') ?? '',
      }));
    const before = await read();
    const callsBefore = bridge.calls.length;
    const stored = await helper.call('stats', {});
    assert.equal(Number(before.total), stored.total, 'the panel shows the helper figure');
    assert.ok(stored.total > 200, `more scans than one page of the list (${stored.total})`);
    const rowsBefore = await page.locator('#events-body tr').count();
    assert.ok(rowsBefore <= 200, `one page is listed (${rowsBefore} scans)`);
    await page.click('#load-older');
    await until('an older page is listed', async () => (await page.locator('#events-body tr').count()) > rowsBefore);
    await page.fill('#filter-search', 'nothing-matches-this'); // empty what the list shows, too
    await until('the search applies', async () => (await page.locator('#events-body tr').count()) === 0);
    // Barrier: whatever the page asked in reply to the paging and the search has been answered
    // and drawn; the panel changes only through a stats request.
    await bridge.answered(page);
    assert.deepEqual(
      bridge.calls.slice(callsBefore).filter((c) => c.method === 'stats'),
      [],
      'paging and searching ask the helper for no statistics',
    );
    assert.deepEqual(await read(), before, 'paging and searching the list leave the statistics alone');
    await page.fill('#filter-search', '');
    assert.match(before.hosts, new RegExp(`^Top scanners: ${lab.hosts.scanner.v4.replace(/\./g, '\\.')} \\d+`));
    assert.match(before.time, /^Scans over time: \d+ from /);
  });

  it('the time range is sent to the helper for the list and the statistics', async () => {
    const callsBefore = bridge.calls.length;
    const now = Date.now();
    await page.selectOption('#filter-range', '3600000');
    await until('both were asked again', () => ['listEvents', 'stats'].every((m) => bridge.calls.slice(callsBefore).some((c) => c.method === m)));
    const sent = bridge.calls.slice(callsBefore);
    for (const method of ['listEvents', 'stats'] as const) {
      const since = (sent.find((c) => c.method === method)?.args[0] as { since?: number }).since;
      assert.ok(since !== undefined && Math.abs(since - (now - 3_600_000)) < 60_000, `${method} since ${since}`);
    }
    await page.selectOption('#filter-range', '');
    await until('the statistics cover everything again', async () => (bridge.calls.slice(-3).find((c) => c.method === 'stats')?.args[0] as { since?: number } | undefined)?.since === undefined);
  });

  it('event rows: copy, ignore, and block/unblock act on the helper', async () => {
    const { target, neighbour, scanner } = lab.hosts;
    // A connect from the neighbour to a watched port: reported (the trap blocks it in the kernel).
    await lab.exec(neighbour, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '7', target.v4]);
    const row = page.locator('#events-body tr', { hasText: neighbour.v4 }).first();
    await row.waitFor({ timeout: 15_000 });
    await row.locator('button[data-act="copy"]').click();
    await until('copied', () => bridge.copied.includes(neighbour.v4));
    await until('the row offers Unblock', async () => (await row.locator('button[data-act="toggle"]').innerText()) === 'Unblock');
    await row.locator('button[data-act="toggle"]').click();
    await blockRow(neighbour.v4).waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await tcpReachable(lab, neighbour, target.v4, SERVICE_PORT), true, 'unblocked from the row');
    await until('the row offers Block', async () => (await row.locator('button[data-act="toggle"]').innerText()) === 'Block');
    await row.locator('button[data-act="toggle"]').click();
    await blockRow(neighbour.v4).waitFor({ timeout: 10_000 });
    assert.equal(await tcpReachable(lab, neighbour, target.v4, SERVICE_PORT), false, 'blocked again from the row');
    await row.locator('button[data-act="ignore"]').click();
    await until('on the ignore list', async () => (await helper.call('ignore.list', {})).entries.some((e) => e.entry === neighbour.v4));
    assert.match(await readFile(join(dir, 'ignore'), 'utf8'), new RegExp(`^${neighbour.v4.replace(/\./g, '\\.')}\\b`, 'm'));
    // Ignore trusts the host: its block is lifted.
    await blockRow(neighbour.v4).waitFor({ state: 'detached', timeout: 10_000 });
    // Keyboard: the table is one tab stop; Right moves along a row's actions.
    await page.locator('#events-body tr').first().focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-act') ?? null), 'scanner');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-act') ?? null), 'toggle');
    assert.equal(await page.evaluate(() => document.querySelectorAll('#events-body [tabindex="0"]').length), 1, 'one tab stop in the scan list');
    assert.ok(scanner.v4);
    // Put the ignore list back: an ignored host makes every range around it unblockable (the range test below).
    await helper.call('ignore.remove', { entry: neighbour.v4 });
  });

  it('blocked hosts: search, one tab stop, reasons on one line (full text on hover and focus), multi-select unblock, extend', async () => {
    for (const address of SEEDED) await helper.call('block', { address, reason: LONG_REASON, timeoutSeconds: 600 });
    await until('the seeded blocks are listed', async () => (await page.locator('#blocks-body tr').count()) >= SEEDED.length + 1);
    const heights = await page.locator('#blocks-body tr').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    assert.ok(Math.max(...heights) <= 40, `rows stay one line high: ${heights.join(', ')}`);
    const reason = blockRow(SEEDED[0]!).locator('.truncate');
    assert.equal(await reason.getAttribute('title'), LONG_REASON, 'the full text on hover');
    assert.equal(await reason.evaluate((el) => getComputedStyle(el as unknown as PageElement).whiteSpace), 'nowrap');
    await blockRow(SEEDED[0]!).locator('button.unblock').focus();
    assert.equal(await reason.evaluate((el) => getComputedStyle(el as unknown as PageElement).whiteSpace), 'normal', 'focus in the row unfolds the reason');

    // One tab stop for the whole table: Tab from it leaves the table.
    assert.equal(await page.evaluate(() => document.querySelectorAll('#blocks-body [tabindex="0"]').length), 1);
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('data-address') ?? null);
    assert.notEqual(focused, SEEDED[0], 'Down moves to the next row');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.closest('#blocks-body') === null), true, 'Tab leaves the table in one press');

    await page.fill('#blocks-search', '198.18.0.4');
    await until('search keeps the seeded rows', async () => (await page.locator('#blocks-body tr').count()) === SEEDED.length);
    assert.match(await page.locator('#blocks-count').innerText(), new RegExp(`, ${SEEDED.length} shown`));

    // Extend one by a day: the kernel's own timeout grows, not just the list.
    const untilBefore = (await helper.call('blocks.list', {})).blocks.find((b) => b.address === SEEDED[3])!.until!;
    await page.selectOption('#blocks-extend-by', '86400');
    await blockRow(SEEDED[3]!).locator('button.extend').click();
    await until('the block was extended', async () => ((await helper.call('blocks.list', {})).blocks.find((b) => b.address === SEEDED[3])?.until ?? 0) >= untilBefore + 86_000_000);
    const element = new RegExp(`${SEEDED[3]!.replace(/\./g, '\\.')} timeout (1d|2[45]h)`);
    await until('nftables holds the new timeout', async () => element.test(await nft()));

    // A redraw under the keyboard user (a block arriving from elsewhere, sorted in at the top)
    // leaves focus on the same control of the same row, so the next key acts on what was focused.
    await blockRow(SEEDED[0]!).locator('input.select').focus();
    await helper.call('block', { address: '198.18.0.44', reason: 'arrives while a checkbox has focus', timeoutSeconds: 600 });
    await blockRow('198.18.0.44').waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null), `Select ${SEEDED[0]}`, 'focus stays on the checkbox');

    // Select two with the keyboard (Space on the checkbox) and unblock both at once.
    for (const address of SEEDED.slice(0, 2)) {
      await blockRow(address).locator('input.select').focus();
      await page.keyboard.press('Space');
    }
    await until('two selected', async () => /2 selected/.test(await page.locator('#blocks-count').innerText()));
    await page.click('#blocks-unblock-selected');
    for (const address of SEEDED.slice(0, 2)) await blockRow(address).waitFor({ state: 'detached', timeout: 10_000 });
    const sets = await nft();
    for (const address of SEEDED.slice(0, 2)) assert.doesNotMatch(sets, new RegExp(`${address.replace(/\./g, '\\.')}\\b`), `${address} left nftables`);
    assert.match(sets, new RegExp(SEEDED[2]!.replace(/\./g, '\\.')), 'the unselected one stays');
    assert.match(await page.locator('#blocks-status').innerText(), /2 of 2 hosts unblocked/);
    await page.fill('#blocks-search', '');
  });

  it('Unblock is on screen without scrolling at 1280x800 and 1024x700, light and dark (screenshots)', async () => {
    for (const [width, height] of [
      [1280, 800],
      [1024, 700],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
        const box = await page.evaluate(() => {
          const button = document.querySelector('#blocks-body tr button.unblock');
          if (button === null) return null;
          const r = button.getBoundingClientRect();
          return { top: r.top, bottom: r.bottom, right: r.right, scrollY: window.scrollY, innerHeight: window.innerHeight, innerWidth: window.innerWidth };
        });
        assert.ok(box !== null, 'there is a blocked host');
        assert.equal(box.scrollY, 0);
        assert.ok(box.top >= 0 && box.bottom <= box.innerHeight && box.right <= box.innerWidth, `${width}x${height} ${scheme}: Unblock at ${JSON.stringify(box)}`);
        await page.screenshot({ path: join(ARTIFACTS, `dashboard-${width}x${height}-${scheme}.png`) });
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('blocks a range typed by hand: a second host in it, never typed, is blocked too (needs prefix support in the helper)', async () => {
    const { target, inrange, scanner } = lab.hosts;
    await page.fill('#blocks-search', ''); // whatever a test before left in the search
    // inrange is 198.18.0.13: inside 198.18.0.12/30, which leaves the target (.10) and the scanner (.11) out.
    assert.equal(inrange.v4, '198.18.0.13');
    await page.fill('#block-address', '198.18.0.13/30');
    await page.click('#block-submit');
    assert.match(await page.locator('#block-address-error').innerText(), /has host bits set; did you mean 198\.18\.0\.12\/30\?/);
    await page.fill('#block-address', '0.0.0.0/0');
    await page.click('#block-submit');
    // The helper's operator bound refuses it (the page keeps no width rule of its own).
    await until('the helper refused it in words', async () => /wider than an operator may block/.test(await page.locator('#block-address-error').innerText()));
    assert.equal(await tcpReachable(lab, inrange, target.v4, SERVICE_PORT), true, 'reachable before');
    await page.fill('#block-address', '198.18.0.12/30');
    await page.fill('#block-reason', 'range block from the dashboard');
    await page.click('#block-submit');
    await until('the helper answered', async () => /is blocked|could not|refused|not valid|never blocked/i.test(await page.locator('#blocks-status').innerText())).catch(async (error: Error) => {
      throw new Error(`${error.message}; the status says: ${await page.locator('#blocks-status').innerText()}`);
    });
    assert.match(await page.locator('#blocks-status').innerText(), /198\.18\.0\.12\/30 is blocked/);
    await blockRow('198.18.0.12/30').waitFor({ timeout: 10_000 });
    assert.equal(await tcpReachable(lab, inrange, target.v4, SERVICE_PORT), false, 'a host inside the range is blocked');
    assert.ok(scanner.v4 === '198.18.0.11');
    await blockRow('198.18.0.12/30').locator('button.unblock').click();
    await blockRow('198.18.0.12/30').waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('first-run view: each helper state says what is wrong and offers the one action that fixes it', async () => {
    const states: Array<[HelperSetup, HelperFix | null]> = [
      [{ state: 'not-installed', title: 'The PortSentry helper is not installed', detail: 'd', action: { id: 'install', label: 'Install the helper', elevated: true } }, 'install'],
      [{ state: 'not-running', title: 'The PortSentry helper is not running', detail: 'd', action: { id: 'start', label: 'Start the helper', elevated: true } }, 'start'],
      [{ state: 'permission-denied', title: 'You are not allowed to talk to the helper yet', detail: 'd', action: { id: 'join-group', label: 'Give me access', elevated: true } }, 'join-group'],
      [{ state: 'needs-relogin', title: 'Log out and back in to finish', detail: 'd', action: { id: 'log-out', label: 'Log out now', elevated: false } }, 'log-out'],
    ];
    fixAction = async () => ({ done: true, message: 'fixed' });
    for (const [setup, fix] of states) {
      setupOverride = () => setup;
      await page.reload();
      const panel = page.locator(`#setup[data-state="${setup.state}"]`);
      await panel.waitFor({ timeout: 10_000 });
      assert.equal(await page.locator('#setup-heading').innerText(), setup.title);
      const button = page.locator('#setup-action');
      assert.equal(await button.innerText(), `${setup.action!.label}${setup.action!.elevated ? '…' : ''}`);
      assert.equal(await page.locator('#setup-elevation').isVisible(), setup.action!.elevated, 'the password prompt is announced for root actions only');
      await button.click();
      await until('the fix was asked for', () => bridge.fixes[bridge.fixes.length - 1] === fix);
      await until('its outcome is shown', async () => (await page.locator('#setup-status').innerText()) === 'fixed');
    }
    // The "not running" action really brings the helper up here: stop it, and let Start start it.
    await daemon.stop();
    setupOverride = (state) => (state.kind === 'connected' ? defaultSetup(state) : states[1]![0]);
    fixAction = async (action) => {
      assert.equal(action, 'start');
      await startHelper();
      return { done: true, message: 'The helper is running.' };
    };
    await page.reload();
    await page.locator('#setup[data-state="not-running"]').waitFor({ timeout: 10_000 });
    await page.click('#setup-action');
    await page.locator('#setup').waitFor({ state: 'hidden', timeout: 20_000 });
    await page.locator('#helper-banner.banner-connected').waitFor({ timeout: 10_000 });
    setupOverride = null;
    fixAction = null;
  });

  it('ran without a script error or a Content Security Policy refusal', () => {
    assert.deepEqual(pageErrors, []);
  });
});
