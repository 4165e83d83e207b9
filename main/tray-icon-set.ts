// The tray icon as a set of PNG images per state: 1x and 2x (HiDPI screens and macOS Retina),
// each state's shape from tray-icons.ts on every OS: in the state's colour on Linux and
// Windows, and on macOS as template images (black and alpha only; the menu bar tints them for
// light and dark mode). PNG carries straight
// (unpremultiplied) alpha, so the soft edge stays the state's colour instead of the bright
// fringe raw unpremultiplied BGRA gives nativeImage.createFromBitmap.

import { crc32, deflateSync } from 'node:zlib';
import { ICON_COLOURS, shapeCoverage } from './tray-icons.js';
import type { TrayIcon } from './tray-model.js';

/** Points (1x pixels): what trays on all three systems expect for a status icon. */
export const TRAY_ICON_POINTS = 16;
export const TRAY_SCALE_FACTORS = [1, 2] as const;

export interface TrayIconRepresentation {
  readonly scaleFactor: number;
  readonly width: number;
  readonly height: number;
  /** A PNG file's bytes (RGBA, straight alpha). */
  readonly png: Buffer;
}

export interface TrayIconSet {
  /** macOS: NativeImage.setTemplateImage(true). */
  readonly template: boolean;
  readonly representations: readonly TrayIconRepresentation[];
}

export function trayIconSet(icon: TrayIcon, platform: NodeJS.Platform): TrayIconSet {
  const template = platform === 'darwin';
  return {
    template,
    representations: TRAY_SCALE_FACTORS.map((scaleFactor) => {
      const size = TRAY_ICON_POINTS * scaleFactor;
      const rgba = template ? templatePixels(icon, size) : colourPixels(icon, size);
      return { scaleFactor, width: size, height: size, png: encodePng(size, size, rgba) };
    }),
  };
}

/** Linux and Windows: the state's shape in its colour. */
function colourPixels(icon: TrayIcon, size: number): Buffer {
  const [r, g, b] = ICON_COLOURS[icon];
  return paint(size, (x, y) => [r, g, b, shapeCoverage(icon, x, y, size)]);
}

/** macOS template: the same shapes, black with alpha. */
function templatePixels(icon: TrayIcon, size: number): Buffer {
  return paint(size, (x, y) => [0, 0, 0, shapeCoverage(icon, x, y, size)]);
}

function paint(size: number, pixel: (x: number, y: number) => readonly [number, number, number, number]): Buffer {
  const out = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x, y);
      const at = (y * size + x) * 4;
      out[at] = r;
      out[at + 1] = g;
      out[at + 2] = b;
      out[at + 3] = Math.round(255 * a);
    }
  }
  return out;
}

/** A minimal PNG writer: 8-bit RGBA, no interlace, filter type 0 on every row. */
export function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  if (rgba.length !== width * height * 4) throw new Error('pixel buffer does not match the size');
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
