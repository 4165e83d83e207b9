// The plain modules behind the Electron glue's fixes: the tray icon set (1x/2x PNGs, macOS
// template images), the tray diff (a menu rebuilt only when it changed) and the login
// command from an AppImage. The glue itself runs in test/main/electron-shell.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { autostartCommand } from '../../main/login-item.js';
import { TrayDiff } from '../../main/tray-diff.js';
import { ICON_COLOURS } from '../../main/tray-icons.js';
import { encodePng, trayIconSet } from '../../main/tray-icon-set.js';
import { trayModel, type TrayIcon } from '../../main/tray-model.js';

const STATES: readonly TrayIcon[] = ['armed', 'alert', 'paused', 'unprotected', 'unreachable'];

/** Decodes the PNGs encodePng writes (8-bit RGBA, filter 0): size and RGBA pixels. */
function decode(png: Buffer): { width: number; height: number; rgba: Buffer } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  assert.deepEqual([...png.subarray(24, 29)], [8, 6, 0, 0, 0], '8-bit RGBA, no interlace');
  const parts: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(parts));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 4 + 1)], 0, 'filter type 0');
    raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  }
  return { width, height, rgba };
}

describe('tray icon set', () => {
  it('Linux and Windows: 16 px at 1x and 32 px at 2x, coloured, edges keep their colour (straight alpha)', () => {
    for (const platform of ['linux', 'win32'] as const) {
      for (const state of STATES) {
        const set = trayIconSet(state, platform);
        assert.equal(set.template, false);
        assert.deepEqual(
          set.representations.map((r) => [r.scaleFactor, r.width, r.height]),
          [
            [1, 16, 16],
            [2, 32, 32],
          ],
        );
        for (const rep of set.representations) {
          const { width, height, rgba } = decode(rep.png);
          assert.deepEqual([width, height], [rep.width, rep.height]);
          let edges = 0;
          for (let i = 0; i < rgba.length; i += 4) {
            const alpha = rgba[i + 3]!;
            if (alpha === 0) continue;
            // Every visible pixel, the soft edge included, is the state's colour: no dark or bright fringe.
            assert.deepEqual([rgba[i], rgba[i + 1], rgba[i + 2]], [...ICON_COLOURS[state]], `${state} ${rep.scaleFactor}x pixel ${i / 4}`);
            if (alpha < 255) edges++;
          }
          assert.ok(edges > 0, 'the shape has a soft edge');
        }
      }
    }
  });

  it('macOS: template images (black and alpha only), one shape per state, at 1x and 2x', () => {
    const shapes = new Set<string>();
    for (const state of STATES) {
      const set = trayIconSet(state, 'darwin');
      assert.equal(set.template, true);
      assert.deepEqual(
        set.representations.map((r) => r.scaleFactor),
        [1, 2],
      );
      for (const rep of set.representations) {
        const { rgba } = decode(rep.png);
        for (let i = 0; i < rgba.length; i += 4) assert.deepEqual([rgba[i], rgba[i + 1], rgba[i + 2]], [0, 0, 0], 'a template is black');
        if (rep.scaleFactor === 2) shapes.add([...rgba.filter((_, i) => i % 4 === 3)].map((a) => (a > 127 ? 1 : 0)).join(''));
      }
    }
    assert.equal(shapes.size, STATES.length, 'without colour, the shape tells the states apart');
  });

  it('Linux and Windows: the shipped icons differ by shape as well as colour (what a monochrome tray or a colour-blind user sees)', () => {
    for (const platform of ['linux', 'win32'] as const) {
      const masks = STATES.map((state) => {
        const { rgba } = decode(trayIconSet(state, platform).representations[0]!.png);
        return Array.from({ length: 256 }, (_, i): number => (rgba[i * 4 + 3]! >= 128 ? 1 : 0));
      });
      for (let a = 0; a < masks.length; a++) {
        for (let b = a + 1; b < masks.length; b++) {
          const differing = masks[a]!.reduce((n, bit, i) => n + (bit === masks[b]![i] ? 0 : 1), 0);
          assert.ok(differing >= 20, `${platform}: ${STATES[a]} and ${STATES[b]} differ in ${differing} of 256 pixels only`);
        }
      }
      assert.equal(new Set(STATES.map((state) => ICON_COLOURS[state].join())).size, STATES.length, 'and each state has its colour');
      const alpha = (state: TrayIcon, x: number, y: number) => decode(trayIconSet(state, platform).representations[0]!.png).rgba[(y * 16 + x) * 4 + 3]!;
      assert.ok(alpha('paused', 8, 8) < 64, 'a gap between the pause bars');
      assert.ok(alpha('unreachable', 11, 5) < 64, 'the ring is hollow off the stroke');
      assert.ok(alpha('alert', 1, 2) < 64, 'the triangle leaves the top corners empty');
      assert.ok(alpha('unprotected', 8, 8) > 128 && alpha('unprotected', 5, 8) < 64, 'an exclamation mark inside a ring');
    }
  });

  it('encodePng refuses pixels that do not match the size', () => {
    assert.throws(() => encodePng(2, 2, Buffer.alloc(15)), /does not match/);
  });
});

describe('tray diff', () => {
  const helper = { kind: 'connected', paused: false } as const;
  const model = (now: number, startAtLogin = false) => trayModel({ helper, scanners: [], preferences: { startAtLogin }, now });

  it('hands over everything once, then only what changed', () => {
    const diff = new TrayDiff();
    const first = diff.next(model(1000));
    assert.ok(first.icon !== undefined && first.tooltip !== undefined && first.menu !== undefined);
    // 900 renders of the same state (a flood, the 5 s tick): nothing to apply.
    for (let i = 0; i < 900; i++) assert.deepEqual(diff.next(model(1000 + i)), {});
    const toggled = diff.next(model(2000, true));
    assert.deepEqual(Object.keys(toggled), ['menu'], 'a checkbox change rebuilds the menu only');
    const paused = diff.next(trayModel({ helper: { kind: 'connected', paused: true }, scanners: [], preferences: { startAtLogin: true }, now: 3000 }));
    assert.deepEqual(Object.keys(paused).sort(), ['icon', 'menu', 'tooltip']);
  });
});

describe('the command run at login', () => {
  it('is the AppImage file when running from one, else the executable', () => {
    const mount = '/tmp/.mount_PortSeAbCdEf/portsentry-desktop';
    assert.deepEqual(autostartCommand(mount, ['--hidden'], { APPIMAGE: '/home/a/Apps/PortSentry.AppImage' }), ['/home/a/Apps/PortSentry.AppImage', '--hidden']);
    assert.deepEqual(autostartCommand('/opt/PortSentry Desktop/portsentry-desktop', [], {}), ['/opt/PortSentry Desktop/portsentry-desktop']);
    for (const bad of ['relative/PortSentry.AppImage', '', '/a\nExec=evil']) assert.deepEqual(autostartCommand(mount, [], { APPIMAGE: bad }), [mount], JSON.stringify(bad));
  });
});
