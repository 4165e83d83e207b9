// `npm start` (scripts/start.mjs). Here the Electron binary was never downloaded, so the real
// path is the explanation: what is missing, how to get it, exit 1. The spawn path is checked
// with ELECTRON_OVERRIDE_DIST_PATH (electron's own override) pointing at a stand-in
// executable that records how it was started.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START = join(ROOT, 'scripts', 'start.mjs');
const VERSION = (JSON.parse(await readFile(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;

async function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env };
  delete clean.ELECTRON_OVERRIDE_DIST_PATH;
  return run(process.execPath, [START, ...args], { cwd: ROOT, env: { ...clean, ...env }, timeout: 30_000 }).then(
    (r) => ({ code: 0, stdout: String(r.stdout), stderr: String(r.stderr) }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? '') }),
  );
}

describe('npm start (scripts/start.mjs)', () => {
  it('without the Electron binary: says what is missing and how to get it, exits 1, builds nothing', async () => {
    const result = await start([]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Cannot start PortSentry Desktop: the electron package has no binary/);
    assert.match(result.stderr, new RegExp(`npx electron@${VERSION.replace(/\./g, '\\.')} --version`));
    assert.match(result.stderr, /ELECTRON_MIRROR=/);
    assert.match(result.stderr, /node node_modules\/electron\/install\.js/);
    assert.equal(result.stdout, '');
  });

  it('with a path that does not exist: names the missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-start-'));
    try {
      const result = await start([], { ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'nowhere') });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /the Electron binary is missing: .*nowhere\/electron does not exist/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with a binary: spawns it on the compiled main and passes its exit code through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-start-'));
    try {
      const record = join(dir, 'argv.txt');
      await writeFile(join(dir, 'electron'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nexit 7\n`);
      await chmod(join(dir, 'electron'), 0o755);
      const result = await start(['--no-build', '--', '--enable-logging'], { ELECTRON_OVERRIDE_DIST_PATH: dir });
      assert.equal(result.code, 7, result.stderr);
      assert.deepEqual((await readFile(record, 'utf8')).trim().split('\n'), [join(ROOT, 'dist', 'main', 'electron', 'main.js'), '--enable-logging']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
