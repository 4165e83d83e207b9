// Tray icons drawn in code, one shape per state as well as one colour, so the state reads in
// a monochrome tray and for colour-blind users too: armed is a filled disc, alert a warning
// triangle, paused the two bars of a pause sign, unreachable a ring struck through. No image
// files to ship or lose; edges are anti-aliased by sampling each pixel 4x4.

import type { TrayIcon } from './tray-model.js';

/** Colours as [red, green, blue]. */
export const ICON_COLOURS: Record<TrayIcon, readonly [number, number, number]> = {
  armed: [0x2e, 0xa0, 0x43],
  alert: [0xd7, 0x26, 0x1e],
  paused: [0xe3, 0xa0, 0x08],
  unreachable: [0x80, 0x80, 0x80],
};

/** Whether a point of the unit square (0..1, y down) is inside the icon's shape. */
export const ICON_SHAPES: Record<TrayIcon, (x: number, y: number) => boolean> = {
  armed: (x, y) => Math.hypot(x - 0.5, y - 0.5) <= 0.44,
  // A triangle on its base, apex at the top: |x - 0.5| grows with the distance from the apex.
  alert: (x, y) => y >= 0.08 && y <= 0.9 && Math.abs(x - 0.5) <= ((y - 0.08) / 0.82) * 0.46,
  paused: (x, y) => y >= 0.12 && y <= 0.88 && ((x >= 0.18 && x <= 0.4) || (x >= 0.6 && x <= 0.82)),
  unreachable: (x, y) => {
    const d = Math.hypot(x - 0.5, y - 0.5);
    const ring = d <= 0.44 && d >= 0.3;
    // The stroke from top-left to bottom-right, inside the ring.
    const slash = d <= 0.44 && Math.abs(x - y) <= 0.1;
    return ring || slash;
  },
};

const SAMPLES = 4;

/** The share (0..1) of one pixel the shape covers. */
function coverage(icon: TrayIcon, px: number, py: number, size: number): number {
  const inside = ICON_SHAPES[icon];
  let hits = 0;
  for (let sy = 0; sy < SAMPLES; sy++) {
    for (let sx = 0; sx < SAMPLES; sx++) {
      if (inside((px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size)) hits += 1;
    }
  }
  return hits / (SAMPLES * SAMPLES);
}

/** A size x size icon as raw BGRA pixels (what Electron's nativeImage.createFromBitmap takes). */
export function iconBitmap(icon: TrayIcon, size = 16): Buffer {
  const [r, g, b] = ICON_COLOURS[icon];
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const at = (y * size + x) * 4;
      pixels[at] = b;
      pixels[at + 1] = g;
      pixels[at + 2] = r;
      pixels[at + 3] = Math.round(255 * coverage(icon, x, y, size));
    }
  }
  return pixels;
}
