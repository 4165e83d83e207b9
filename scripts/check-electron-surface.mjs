#!/usr/bin/env node
// Type-checks the Electron glue (main/electron/main.ts, security.ts, the preload) a second
// time, with the module 'electron' resolved to the harness's surface
// (test/main/electron-harness/surface.ts: the members the harness implements, picked from
// electron.d.ts). The first check (tsc -p .) holds the glue to the real Electron 41 API; this
// one fails when the glue uses a part of Electron the harness does not implement, so the
// harness test cannot silently stop covering the glue.
// electron.d.ts declares the module 'electron' ambiently, and tsc prefers an ambient module
// over any path mapping, so the program gets electron.d.ts without its `declare module`
// blocks (the Electron namespace, NodeJS.Process additions etc. stay), written to
// dist/electron-surface/. Usage: check-electron-surface.mjs (run by npm run build).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist', 'electron-surface');
const MODULE_BLOCK = /^declare module 'electron(?:\/[a-z]+)?' \{\n[^}]*\n\}\n/gm;

const declarations = readFileSync(join(root, 'node_modules', 'electron', 'electron.d.ts'), 'utf8');
const blocks = declarations.match(MODULE_BLOCK) ?? [];
if (blocks.length === 0 || !blocks.some((block) => block.startsWith("declare module 'electron' {"))) {
  console.error("check-electron-surface: electron.d.ts no longer declares module 'electron' the way this script expects; update MODULE_BLOCK");
  process.exit(1);
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'electron-namespace.d.ts'), declarations.replace(MODULE_BLOCK, ''));
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '../..', paths: { electron: ['../../test/main/electron-harness/surface.ts'] } },
      include: [],
      files: ['electron-namespace.d.ts', '../../main/electron/main.ts', '../../main/electron/security.ts', '../../main/electron/preload.cts'],
    },
    null,
    2,
  ),
);
try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(out, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  console.error('check-electron-surface: the glue uses a part of Electron the harness does not implement (see above); implement it in test/main/electron-harness/electron.ts and add it to surface.ts');
  process.exit(1);
}
console.log('check-electron-surface: the glue uses only what the harness implements');
