#!/usr/bin/env node
// electron-builder's deb/rpm `afterInstall`/`afterRemove` REPLACE its own scripts, which
// create /usr/bin/<executable>, set chrome-sandbox's mode and install the AppArmor profile
// Ubuntu 24.04+ needs. So the package's hooks are composed here: electron-builder's own
// template first, unchanged, then ours (build/linux/after-install.sh, after-remove.sh).
// electron-builder then fills the ${executable}/${sanitizedProductName} macros in both parts.
// Runs before every desktop packaging (npm run package:desktop / package:linux).
//   node scripts/compose-linux-hooks.mjs [OUTPUT_DIR]   (default: build/linux/generated)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** electron-builder's own hook template, from the installed app-builder-lib. */
export function defaultTemplate(name) {
  const require = createRequire(join(root, 'package.json'));
  const lib = dirname(require.resolve('app-builder-lib/package.json'));
  return readFileSync(join(lib, 'templates', 'linux', `${name}.tpl`), 'utf8');
}

/** Default template + ours. Ours keeps its own `set -e` and exit status, in a subshell. */
export function composeHook(name) {
  const ours = readFileSync(join(root, 'build', 'linux', `${name}.sh`), 'utf8').replace(/^#!.*\n/, '');
  return `${defaultTemplate(name).trimEnd()}\n\n# ---- PortSentry Desktop (build/linux/${name}.sh) ----\n(\n${ours.trimEnd()}\n) || exit $?\n`;
}

export function composeAll(out = join(root, 'build', 'linux', 'generated')) {
  mkdirSync(out, { recursive: true });
  const files = [];
  for (const name of ['after-install', 'after-remove']) {
    const file = join(out, `${name}.tpl`);
    writeFileSync(file, composeHook(name), { mode: 0o755 });
    files.push(file);
  }
  return files;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of composeAll(process.argv[2] === undefined ? undefined : resolve(process.argv[2]))) console.log(file);
}
