#!/usr/bin/env node
// Writes the IPC table's names and channels (preloadManifest() of shared/ipc-schema.ts, as tsc
// compiled it) into the compiled sandboxed preload, dist/main/electron/preload.cjs, which
// cannot load the table itself (its require() knows only 'electron'). Run after tsc; running
// it again on a built preload writes the manifest afresh. Usage: build-preload.mjs [dist dir]

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
const preload = join(dist, 'main', 'electron', 'preload.cjs');
const { preloadManifest } = await import(pathToFileURL(join(dist, 'shared', 'ipc-schema.js')).href);

// tsc's line, or the line this script wrote before (the marker comment keeps it findable).
const LINE = /^const manifest = (?:PORTSENTRY_IPC_MANIFEST|\/\* PORTSENTRY_IPC_MANIFEST \*\/ .*);$/gm;
const text = readFileSync(preload, 'utf8');
const found = text.match(LINE) ?? [];
if (found.length !== 1) {
  console.error(`build-preload: expected one "const manifest = PORTSENTRY_IPC_MANIFEST;" line in ${preload}, found ${found.length}`);
  process.exit(1);
}
const manifest = preloadManifest();
writeFileSync(
  preload,
  text.replace(LINE, () => `const manifest = /* PORTSENTRY_IPC_MANIFEST */ ${JSON.stringify(manifest)};`),
);
console.log(`build-preload: ${manifest.invoke.length} requests and ${manifest.notify.length} pushes in ${preload}`);
