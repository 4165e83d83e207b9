// The scanner list in real Chromium against a real helper in a lab: one row per scanner (not
// per probe), its state with the reason from the helper's lists (a blocked TCP scanner, a
// report-only UDP scanner with the helper's why), a row expands to exactly its probes, the
// table is one tab stop with the actions first, and at 1024x700 and 1280x800, light and
// dark, every row's actions and state lie inside the panel with no horizontal scroll
// (screenshots under test-results/ for a human to look at).
// Needs root, /usr/bin/chromium, python3 and a built renderer (npm run build).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { RENDERER_ROOT, defaultSetup, startRendererBridge, type RendererBridge } from '../support/renderer-bridge.js';
import { until } from '../support/wait.js';

const TABLE = `psls${process.pid}`.slice(0, 30);
const UDP_TRIPWIRES = [1, 7, 9];
const TCP_TRIPWIRE = 11;
const SHOTS = fileURLToPath(new URL('../../../test-results/', import.meta.url));

// Page-side code (the page.evaluate callbacks) runs in Chromium; the main build has no DOM
// types, so the little of the DOM they use is declared here, for this module only.
interface PageBox {
  readonly left: number;
  readonly right: number;
}
interface PageElement {
  readonly className: string;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): PageBox;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<PageElement>;
  querySelector(selector: string): PageElement | null;
  readonly activeElement: PageElement | null;
  readonly documentElement: PageElement;
};

/** Where each scanner row's controls and state lie, against the panel's and the table box's. */
interface Boxes {
  readonly panel: { left: number; right: number };
  readonly wrap: { left: number; right: number; scrollWidth: number; clientWidth: number };
  readonly pageScrolls: boolean;
  readonly parts: { what: string; left: number; right: number }[];
}

describe('the scanner list: one row per scanner, state with its reason, fits 1024x700', { timeout: 180_000 }, () => {
  let lab: Lab<'target' | 'tcpscanner' | 'udpscanner'>;
  let dir: string;
  let daemon: DaemonProcess;
  let bridge: RendererBridge;
  let browser: Browser;
  let page: Page;
  let helper: HelperClient;

  const row = (address: string) => page.locator(`#scanners-body tr.scanner-row[data-address="${address}"]`);

  before(async () => {
    assert.ok(existsSync(join(RENDERER_ROOT, 'dashboard.html')), 'build the renderer first: npm run build');
    lab = await createLab(['target', 'tcpscanner', 'udpscanner']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-scanners-'));
    await writeFile(join(dir, 'ignore'), '# scanner list test ignore list\n');
    await writeFile(
      join(dir, 'portsentry.conf'),
      helperConfigText(dir, { NFT_TABLE: TABLE, TCP_PORTS: String(TCP_TRIPWIRE), UDP_PORTS: UDP_TRIPWIRES.join(','), BLOCK_UDP: '0', BLOCK_TIMEOUT: '3600' }, '# scanner list test'),
    );
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-tcp', '-udp']);
    [browser] = await Promise.all([chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }), daemon.waitFor('Control socket listening on')]);
    const socketPath = join(dir, 'run', 'helper.sock');
    helper = await HelperClient.connect(socketPath);
    bridge = await startRendererBridge({ socketPath, setup: defaultSetup });
    page = await (await browser.newContext({ viewport: { width: 1024, height: 700 }, colorScheme: 'light' })).newPage();
    await bridge.install(page);
    await page.goto(`${bridge.url}/dashboard.html`);
    await page.locator('#helper-banner.banner-connected').waitFor({ timeout: 15_000 });
  });

  after(async () => {
    helper?.close();
    await browser?.close().catch(() => undefined);
    await bridge?.close();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('one row per scanner with its state and reason; a row expands to exactly its probes', async () => {
    const { target, tcpscanner, udpscanner } = lab.hosts;
    // Two rounds of UDP probes from one host (several probes: one row), then a TCP connect from
    // another (blocked), handled after them: the barrier for what follows.
    for (let round = 0; round < 2; round++) {
      for (const port of UDP_TRIPWIRES) {
        await lab.exec(udpscanner, ['python3', '-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('${target.v4}', ${port}))`]);
      }
      if (round === 0)
        await until(
          'the helper stored the first round',
          async () => (await helper.call('events.list', { host: udpscanner.v4 })).events.length >= 1,
          60_000,
          () => daemon.lines.slice(-20).join('\n'),
        );
    }
    await lab.exec(tcpscanner, ['python3', '-c', `import socket; s=socket.socket(); s.settimeout(3)\ntry: s.connect(('${target.v4}', ${TCP_TRIPWIRE}))\nexcept OSError: pass`], { allowFailure: true });
    await until('the TCP scanner is blocked', async () => (await helper.call('blocks.list', {})).blocks.some((b) => b.address === tcpscanner.v4));
    const stored = (await helper.call('events.list', { host: udpscanner.v4 })).events.length;
    // Scan records reach the store once a tick (a fast scan is one write a second), so the
    // TCP block is no barrier for them: wait for the record to count every probe.
    const recordedProbes = async () => (await helper.call('scans.list', {})).scans.filter((s) => s.scanner === udpscanner.v4).reduce((n, r) => n + r.probes, 0);
    await until("the UDP scanner's record counts both rounds", async () => (await recordedProbes()) >= UDP_TRIPWIRES.length * 2);
    const probeCount = await recordedProbes();
    assert.ok(stored >= 1, `the UDP scanner's probes are stored (${stored} events, ${probeCount} in records)`);

    await until('both scanners are listed, each once', async () => (await row(udpscanner.v4).count()) === 1 && (await row(tcpscanner.v4).count()) === 1);
    assert.equal(await page.locator('#scanners-body tr.scanner-row').count(), 2, 'one row per scanner, not one per probe');
    assert.equal(await page.locator('#scanners-count').innerText(), '2 scanners');

    await until('the report-only scanner says why, in the helper words', async () => (await row(udpscanner.v4).locator('.why').innerText()) === 'report only (BLOCK_UDP=0)');
    assert.equal(await row(udpscanner.v4).locator('.badge').innerText(), 'Reported only');
    assert.equal(await row(udpscanner.v4).locator('button[data-act="toggle"]').innerText(), 'Block');
    assert.match(await row(udpscanner.v4).locator('.ports').innerText(), /^UDP 1, 7, 9$/);
    assert.equal(await row(udpscanner.v4).locator('.kinds').innerText(), `UDP · ${probeCount} probes`);
    await until('the blocked scanner says until when', async () => /^until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(await row(tcpscanner.v4).locator('.why').innerText()));
    assert.equal(await row(tcpscanner.v4).locator('.badge').innerText(), 'Blocked');
    assert.equal(await row(tcpscanner.v4).locator('button[data-act="toggle"]').innerText(), 'Unblock');
    // Who they are: lab addresses (198.18.0.0/15) are a private network, never a guess (main's real lookup).
    await until('the network owner is shown', async () => (await row(udpscanner.v4).locator('.owner').innerText()) === 'private network');
    assert.equal(await row(tcpscanner.v4).locator('.owner').innerText(), 'private network');

    // Expand: the probes of that source, as the helper stored them.
    await row(udpscanner.v4).locator('button[data-act="expand"]').click();
    const probes = page.locator(`#scanners-body tr.probes-row[data-address="${udpscanner.v4} probes"] li`);
    await until('the probes are listed under the row', async () => (await probes.count()) === stored);
    assert.equal(await row(udpscanner.v4).locator('button[data-act="expand"]').getAttribute('aria-expanded'), 'true');
    for (const text of await probes.allInnerTexts()) assert.match(text, /^\d\d:\d\d:\d\d UDP [179] · UDP probe · Reported only report only \(BLOCK_UDP=0\)$/);

    // The keyboard: one tab stop, actions first along a row, down into the expanded probes.
    await row(tcpscanner.v4).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-act') ?? null), 'expand');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-act') ?? null), 'toggle');
    assert.equal(await page.evaluate(() => [...document.querySelectorAll('#scanners-body [tabindex="0"]')].length), 1, 'one tab stop in the scanner list');
  });

  for (const [width, height] of [
    [1024, 700],
    [1280, 800],
  ] as const) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`at ${width}x${height}, ${scheme}: every row's actions and state lie inside the panel, no horizontal scroll`, async () => {
        await page.setViewportSize({ width, height });
        await page.emulateMedia({ colorScheme: scheme });
        await row(lab.hosts.udpscanner.v4).waitFor();
        const boxes: Boxes = await page.evaluate(() => {
          const box = (el: PageElement) => el.getBoundingClientRect();
          const panel = box(document.querySelector('.events-panel')!);
          const wrap = document.querySelector('.scanners-wrap')!;
          const parts = [...document.querySelectorAll('#scanners-body tr.scanner-row')].flatMap((tr) =>
            [...tr.querySelectorAll('button, .badge, .why')].map((el) => ({
              what: `${tr.getAttribute('data-address')} ${el.getAttribute('data-act') ?? el.className}`,
              left: box(el).left,
              right: box(el).right,
            })),
          );
          return {
            panel: { left: panel.left, right: panel.right },
            wrap: { left: box(wrap).left, right: box(wrap).right, scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth },
            pageScrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth,
            parts,
          };
        });
        assert.equal(boxes.pageScrolls, false, 'the window does not scroll sideways');
        assert.ok(boxes.wrap.scrollWidth <= boxes.wrap.clientWidth, `the scanner table does not scroll sideways (${boxes.wrap.scrollWidth} > ${boxes.wrap.clientWidth})`);
        assert.ok(boxes.parts.length >= 2 * 6, `actions and states measured: ${boxes.parts.length}`);
        for (const part of boxes.parts) {
          assert.ok(part.left >= boxes.wrap.left && part.right <= boxes.wrap.right, `${part.what} lies inside the table (${part.left}-${part.right} in ${boxes.wrap.left}-${boxes.wrap.right})`);
          assert.ok(part.left >= boxes.panel.left && part.right <= boxes.panel.right, `${part.what} lies inside the panel`);
        }
        await mkdir(SHOTS, { recursive: true });
        await page.locator('.events-panel').screenshot({ path: join(SHOTS, `scanner-list-${width}x${height}-${scheme}.png`) });
      });
    }
  }
});
