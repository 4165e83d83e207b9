#!/usr/bin/env node
// Writes the tray icons the app draws at run time (main/tray-icon-set.ts) as PNG files, named
// the way Electron names image sets (name.png, name@2x.png, nameTemplate.png,
// nameTemplate@2x.png), so they can be looked at or handed to a designer. Build first.
//   node scripts/make-tray-icons.mjs [OUTPUT_DIR]   (default: build/tray)

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = resolve(process.argv[2] ?? join(root, 'build', 'tray'));
const { trayIconSet } = await import(join(root, 'dist', 'main', 'tray-icon-set.js'));
mkdirSync(out, { recursive: true });
for (const icon of ['armed', 'alert', 'paused', 'unreachable']) {
  for (const [platform, suffix] of [
    ['linux', ''],
    ['darwin', 'Template'],
  ]) {
    for (const rep of trayIconSet(icon, platform).representations) {
      const file = join(out, `${icon}${suffix}${rep.scaleFactor === 1 ? '' : `@${rep.scaleFactor}x`}.png`);
      writeFileSync(file, rep.png);
      console.log(file);
    }
  }
}
