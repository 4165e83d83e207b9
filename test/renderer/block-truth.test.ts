// One block truth on the dashboard, in real Chromium against a real helper in a lab: a host
// reported only (BLOCK_UDP=0) is never shown blocked (rows, header, per-scanner view), each
// of its rows says why it was not blocked in the helper's words, the header's count is the
// list's, and a range block covering a host counts as blocking it (row, view, Unblock lifts
// the range in nftables); Ignore on a row lifts a real block and Undo puts it back, and the
// per-scanner view's Allow for 1 hour is a timed ignore entry in the helper.
// Needs root, /usr/bin/chromium, python3 and a built renderer (npm run build).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import { blockedSetsText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, defaultSetup, type RendererBridge } from '../support/renderer-bridge.js';
import { startRendererRig, type RendererRig } from '../support/renderer-rig.js';
import { until } from '../support/wait.js';

const TABLE = `psbt${process.pid}`.slice(0, 30);
/** The UDP tripwires (UDP_PORTS). */
const UDP_TRIPWIRES = [1, 7, 9];

describe('one block truth on the dashboard, against a real helper', { timeout: 180_000 }, () => {
  let lab: Lab<'target' | 'other' | 'scanner'>;
  let dir: string;
  let rig: RendererRig | undefined;
  let bridge: RendererBridge;
  let page: Page;
  let helper: HelperClient;

  const udpProbe = (port: number) =>
    lab.exec(lab.hosts.scanner, ['python3', '-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('${lab.hosts.target.v4}', ${port}))`]);
  const headerCount = async () => /· (\d+) hosts? blocked ·/.exec(await page.locator('#helper-details').innerText())?.[1];
  const listCount = async () => /^(\d+) hosts? blocked/.exec(await page.locator('#blocks-count').innerText())?.[1];

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'dashboard.html')), 'build the renderer first: npm run build');
    lab = await createLab(['target', 'other', 'scanner']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-truth-'));
    rig = await startRendererRig(lab, lab.hosts.target, dir, {
      keys: { NFT_TABLE: TABLE, UDP_PORTS: UDP_TRIPWIRES.join(','), BLOCK_UDP: '0', BLOCK_TIMEOUT: '3600' },
      args: ['-udp'],
      comment: '# block truth test',
      ignore: '# block truth test ignore list\n',
      bridge: { setup: defaultSetup },
    });
    ({ bridge } = rig);
    helper = await HelperClient.connect(rig.helper.socketPath);
    page = await (await rig.browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })).newPage();
    await bridge.install(page);
    await page.goto(`${bridge.url}/dashboard.html`);
    await page.locator('#helper-banner.banner-connected').waitFor({ timeout: 15_000 });
    await page.locator('#probes-section > summary').click(); // the per-probe list is folded under the scanner list
  });

  after(async () => {
    helper?.close();
    await rig?.close();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('a report-only host is never shown blocked, and each row says why in the helper words', async () => {
    const { target, scanner } = lab.hosts;
    for (const port of UDP_TRIPWIRES) await udpProbe(port);
    // A second round: these are the "reported already" probes, the ones once labelled "Already blocked".
    await until('the helper reported the scanner', async () => (await helper.call('events.list', { host: scanner.v4 })).events.length >= 1);
    for (const port of UDP_TRIPWIRES) await udpProbe(port);
    const rows = page.locator('#events-body tr');
    await until('the scanner rows are listed', async () => (await rows.count()) >= 1);
    // Barrier: a block by hand of another host, handled after the scanner's probes; once the
    // page shows it, the list and header have seen everything before it.
    await helper.call('block', { address: lab.hosts.other.v4, reason: 'barrier' });
    await page.locator(`#blocks-body tr[data-address="${lab.hosts.other.v4}"]`).waitFor({ timeout: 20_000 });
    assert.equal((await blockedSetsText(lab, target, TABLE)).includes(scanner.v4), false, 'nothing of the scanner is in nftables');
    const badges = await page.locator('#events-body .badge').allInnerTexts();
    assert.ok(badges.length >= 1, 'rows are shown');
    for (const badge of badges) assert.ok(!/blocked/i.test(badge) || /not blocked/i.test(badge), `a report-only row says "${badge}"`);
    const whys = await page.locator('#events-body .why').allInnerTexts();
    assert.equal(whys.length, badges.length, 'every row that did not block says why');
    for (const why of whys) assert.equal(why, 'report only (BLOCK_UDP=0)');
    for (const label of await page.locator(`#events-body button[data-act="toggle"][data-address="${scanner.v4}"]`).allInnerTexts()) assert.equal(label, 'Block');
    await until('the header counts the list', async () => (await headerCount()) === '1' && (await listCount()) === '1');
    await page.locator(`#events-body button.host-link:text-is("${scanner.v4}")`).first().click();
    await until('the scanner view gives the state with its reason', async () => (await page.locator('#scanner-state').innerText()) === 'Not blocked: report only (BLOCK_UDP=0)');
    assert.equal(await page.locator('#scanner-toggle-block').innerText(), 'Block this host');
    await page.keyboard.press('Escape');
  });

  it('a range block covering a host counts as blocking it; Unblock from its row lifts the range', async () => {
    const { target, scanner } = lab.hosts;
    const range = '198.18.0.12/30';
    assert.equal(scanner.v4, '198.18.0.12', 'the scanner is the lab third host');
    await helper.call('block', { address: range, reason: 'range by hand' });
    const toggle = page.locator(`#events-body button[data-act="toggle"][data-address="${scanner.v4}"]`).first();
    await until('the scanner row offers Unblock', async () => (await toggle.innerText()) === 'Unblock');
    await until('the header counts the list', async () => (await headerCount()) === '2' && (await listCount()) === '2');
    await page.locator(`#events-body button.host-link:text-is("${scanner.v4}")`).first().click();
    await until('the view says what blocks it', async () => /^Blocked by 198\.18\.0\.12\/30 until \d{4}-/.test(await page.locator('#scanner-state').innerText()));
    await page.keyboard.press('Escape');
    await toggle.click();
    await until('the range is lifted', async () => !(await helper.call('blocks.list', {})).blocks.some((b) => b.address === range));
    assert.equal((await blockedSetsText(lab, target, TABLE)).includes('198.18.0.12/30'), false, 'the range is gone from nftables');
    await until('the row offers Block again', async () => (await toggle.innerText()) === 'Block');
    await until('the header counts the list', async () => (await headerCount()) === '1' && (await listCount()) === '1');
  });

  it('Ignore on a row lifts the real block and says so, Undo puts it back; Allow for 1 hour from the scanner view', async () => {
    const { target, scanner } = lab.hosts;
    await helper.call('block', { address: scanner.v4, reason: 'blocked for the ignore test' });
    const toggle = page.locator(`#events-body button[data-act="toggle"][data-address="${scanner.v4}"]`).first();
    await until('the row offers Unblock', async () => (await toggle.innerText()) === 'Unblock');
    await page.locator(`#events-body button[data-act="ignore"][data-address="${scanner.v4}"]`).first().click();
    await until('the page says the block was lifted', async () => /^198\.18\.0\.12 is trusted: .* Its block \(198\.18\.0\.12\) was lifted\.$/.test(await page.locator('#events-status').innerText()));
    assert.equal((await blockedSetsText(lab, target, TABLE)).includes(scanner.v4), false, 'the kernel no longer holds the block');
    await until('the row offers Block', async () => (await toggle.innerText()) === 'Block');
    await page.click('#trust-undo');
    await until('the page says it is undone', async () => (await page.locator('#events-status').innerText()) === `${scanner.v4} is off the ignore list. ${scanner.v4} is blocked again.`);
    assert.ok((await blockedSetsText(lab, target, TABLE)).includes(scanner.v4), 'the block is back in nftables');
    assert.deepEqual((await helper.call('ignore.list', {})).entries, []);

    await page.locator(`#events-body button.host-link:text-is("${scanner.v4}")`).first().click();
    await page.click('#scanner-allow-hour');
    await until('allowed for an hour', async () => (await helper.call('ignore.list', {})).entries.length === 1);
    const [entry] = (await helper.call('ignore.list', {})).entries;
    assert.ok(entry?.until !== undefined && Math.abs(entry.until - (Date.now() + 3_600_000)) < 120_000, `an hour from now (${entry?.until})`);
    // The entry is listed once written; the page's ignore.add answers after the lift: wait for the kernel.
    await until('its block lifted', async () => !(await blockedSetsText(lab, target, TABLE)).includes(scanner.v4));
    await until('the view says it is not blocked', async () => (await page.locator('#scanner-toggle-block').innerText()) === 'Block this host');
    await page.keyboard.press('Escape');
  });
});
