#!/usr/bin/env node
// Builds the renderer into dist/renderer: compiles renderer/ with tsconfig.renderer.json,
// keeps only the modules the pages really load (following their relative imports from the
// entry points), refuses any of them that would need Node or a package the page cannot
// load, and copies the HTML and CSS beside them. No bundler: the windows load ES modules
// from file:// (Electron) or http://127.0.0.1 (tests), all under dist/renderer.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'renderer');
const ENTRIES = ['renderer/dashboard/main.js', 'renderer/settings/main.js'];
const STATIC_FILES = ['dashboard.html', 'settings.html', 'styles.css'];

rmSync(out, { recursive: true, force: true });
const tsc = join(root, 'node_modules', '.bin', 'tsc');
execFileSync(tsc, ['-p', join(root, 'tsconfig.renderer.json')], { stdio: 'inherit', cwd: root });

// Follow the import graph from the entry points.
const IMPORT = /(?:^|[\s;])(?:import|export)\s*(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const needed = new Set();
const problems = [];
const queue = ENTRIES.map((entry) => join(out, entry));
while (queue.length > 0) {
  const file = queue.pop();
  if (needed.has(file)) continue;
  if (!existsSync(file)) {
    problems.push(`${relative(out, file)} is imported but was not built`);
    continue;
  }
  needed.add(file);
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (specifier.startsWith('./') || specifier.startsWith('../')) queue.push(resolve(dirname(file), specifier));
    else problems.push(`${relative(out, file)} imports "${specifier}", which a sandboxed page cannot load (no Node, no bare packages)`);
  }
}
if (problems.length > 0) {
  console.error(`build-renderer: refused:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

// Drop everything else tsc emitted (the protocol, zod users, node users): the pages never load it.
const walk = (dir) => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
for (const file of walk(out)) if (!needed.has(file)) rmSync(file);
const pruneEmpty = (dir) => {
  for (const name of readdirSync(dir)) if (statSync(join(dir, name)).isDirectory()) pruneEmpty(join(dir, name));
  if (dir !== out && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
};
pruneEmpty(out);

for (const name of STATIC_FILES) copyFileSync(join(root, 'renderer', name), join(out, name));
console.log(`build-renderer: ${needed.size} modules and ${STATIC_FILES.length} static files in ${relative(root, out)}`);
