// Tray icons drawn in code, one shape per state as well as one colour, so the state reads in
// a monochrome tray and for colour-blind users too: armed is a filled disc, alert a warning
// triangle, paused the two bars of a pause sign, not protecting (or a degraded firewall) a
// ring with an exclamation mark, unreachable a ring struck through. The shipped icons on every
// OS are these shapes (tray-icon-set.ts: coloured on Linux and Windows, black templates on
// macOS). No image files to ship or lose; edges are anti-aliased by sampling each pixel 4x4.

import type { TrayIcon } from './tray-model.js';

/** Colours as [red, green, blue]. */
export const ICON_COLOURS: Record<TrayIcon, readonly [number, number, number]> = {
  armed: [0x2e, 0xa0, 0x43],
  alert: [0xd7, 0x26, 0x1e],
  paused: [0xe3, 0xa0, 0x08],
  unprotected: [0x8e, 0x44, 0xad],
  unreachable: [0x80, 0x80, 0x80],
};

/** Whether a point of the unit square (0..1, y down) is inside the icon's shape. */
export const ICON_SHAPES: Record<TrayIcon, (x: number, y: number) => boolean> = {
  armed: (x, y) => Math.hypot(x - 0.5, y - 0.5) <= 0.44,
  // A triangle on its base, apex at the top: |x - 0.5| grows with the distance from the apex.
  alert: (x, y) => y >= 0.08 && y <= 0.9 && Math.abs(x - 0.5) <= ((y - 0.08) / 0.82) * 0.46,
  paused: (x, y) => y >= 0.12 && y <= 0.88 && ((x >= 0.18 && x <= 0.4) || (x >= 0.6 && x <= 0.82)),
  unprotected: (x, y) => {
    const d = Math.hypot(x - 0.5, y - 0.5);
    const ring = d <= 0.46 && d >= 0.34;
    const bar = Math.abs(x - 0.5) <= 0.07 && y >= 0.2 && y <= 0.58;
    const dot = Math.hypot(x - 0.5, y - 0.72) <= 0.08;
    return ring || bar || dot;
  },
  unreachable: (x, y) => {
    const d = Math.hypot(x - 0.5, y - 0.5);
    const ring = d <= 0.44 && d >= 0.3;
    // The stroke from top-left to bottom-right, inside the ring.
    const slash = d <= 0.44 && Math.abs(x - y) <= 0.1;
    return ring || slash;
  },
};

const SAMPLES = 4;

/** The share (0..1) of pixel (px, py) of a size x size icon the state's shape covers. */
export function shapeCoverage(icon: TrayIcon, px: number, py: number, size: number): number {
  const inside = ICON_SHAPES[icon];
  let hits = 0;
  for (let sy = 0; sy < SAMPLES; sy++) {
    for (let sx = 0; sx < SAMPLES; sx++) {
      if (inside((px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size)) hits += 1;
    }
  }
  return hits / (SAMPLES * SAMPLES);
}
