#!/usr/bin/env node
// `npm start`: build, then run the desktop app under Electron. The electron npm package only
// knows where its binary is once its postinstall download ran (node_modules/electron/path.txt);
// on a machine without that download this prints what is missing and how to get it, and
// exits 1 instead of failing somewhere inside Electron's loader.
//
//   node scripts/start.mjs [--no-build] [-- extra electron args]

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(root, 'package.json'));
const MAIN = join(root, 'dist', 'main', 'electron', 'main.js');

function electronVersion() {
  try {
    return JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** The binary's path, or a sentence saying why there is none. */
function findElectron() {
  let path;
  try {
    path = require('electron'); // a string: the executable's path, when the download happened
  } catch (error) {
    return { problem: `the electron package has no binary (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
  if (typeof path !== 'string') return { problem: 'the electron package did not return a binary path' };
  if (!existsSync(path)) return { problem: `the Electron binary is missing: ${path} does not exist` };
  return { path };
}

const args = process.argv.slice(2);
const found = findElectron();
if (found.problem !== undefined) {
  const version = electronVersion() ?? '<version in package.json>';
  process.stderr.write(
    [
      `Cannot start PortSentry Desktop: ${found.problem}.`,
      '',
      `The Electron ${version} binary is downloaded by the electron package's install step, which is`,
      'disabled or could not reach the network on this machine. To get it:',
      `  - on a machine with internet access: npx electron@${version} --version`,
      '    (this fills the Electron download cache, ~/.cache/electron on Linux; copy that cache here,',
      '    then run: node node_modules/electron/install.js)',
      '  - through a mirror: ELECTRON_MIRROR=<mirror URL> node node_modules/electron/install.js',
      '  - or point ELECTRON_OVERRIDE_DIST_PATH at a directory holding an unpacked Electron build.',
      '',
      'Everything except the window and tray glue runs without Electron: npm test.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const separator = args.indexOf('--');
const ownArgs = separator === -1 ? args : args.slice(0, separator);
const electronArgs = separator === -1 ? [] : args.slice(separator + 1);

if (!ownArgs.includes('--no-build')) {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  // Main process, preload and tests (tsc), the IPC table's manifest into the preload, then the pages into dist/renderer.
  const steps = [
    [tsc, ['-p', root]],
    [process.execPath, [join(root, 'scripts', 'build-preload.mjs')]],
  ];
  const renderer = join(root, 'scripts', 'build-renderer.mjs');
  if (existsSync(renderer)) steps.push([process.execPath, [renderer]]);
  for (const [program, argv] of steps) {
    const build = spawnSync(program, argv, { stdio: 'inherit', cwd: root });
    if (build.status !== 0) {
      process.stderr.write('Build failed; not starting Electron.\n');
      process.exit(build.status ?? 1);
    }
  }
}
if (!existsSync(MAIN)) {
  process.stderr.write(`Nothing to run: ${MAIN} does not exist (build first).\n`);
  process.exit(1);
}

const child = spawn(found.path, [MAIN, ...electronArgs], { stdio: 'inherit', cwd: root });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
child.on('error', (error) => {
  process.stderr.write(`Could not start Electron at ${found.path}: ${error.message}\n`);
  process.exit(1);
});
