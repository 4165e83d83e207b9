// Tray icons drawn in code: a filled dot whose colour says the state. No image files to ship
// or lose, and each state stays distinguishable in a monochrome-hostile tray by brightness too.

import type { TrayIcon } from './tray-model.js';

/** Colours as [red, green, blue]. */
export const ICON_COLOURS: Record<TrayIcon, readonly [number, number, number]> = {
  armed: [0x2e, 0xa0, 0x43],
  alert: [0xd7, 0x26, 0x1e],
  paused: [0xe3, 0xa0, 0x08],
  unreachable: [0x80, 0x80, 0x80],
};

/**
 * A size x size dot as raw BGRA pixels (what Electron's nativeImage.createFromBitmap takes),
 * with a one-pixel soft edge so it does not look jagged.
 */
export function iconBitmap(icon: TrayIcon, size = 16): Buffer {
  const [r, g, b] = ICON_COLOURS[icon];
  const pixels = Buffer.alloc(size * size * 4);
  const centre = (size - 1) / 2;
  const radius = size / 2 - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const distance = Math.hypot(x - centre, y - centre);
      const alpha = Math.round(255 * Math.min(1, Math.max(0, radius + 0.5 - distance)));
      const at = (y * size + x) * 4;
      pixels[at] = b;
      pixels[at + 1] = g;
      pixels[at + 2] = r;
      pixels[at + 3] = alpha;
    }
  }
  return pixels;
}
