// A partial benchmark run (`run.js --only ... --trigger-modes ...`), for re-measuring some
// figures without the whole ~7 minutes: it runs only what was named, writes
// results-partial.json/.md and never overwrites results.md (which quotes a full run). Runs
// for real in a namespaced lab; no thresholds on speed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchResults } from '../../bench/results.js';

const run = promisify(execFile);
const RUN_SCRIPT = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

describe('a partial bench run', { timeout: 600_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portsentry-bench-partial-'));
  });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a figure or mode it does not know, before building a lab, and writes nothing', async () => {
    for (const args of [['--only', 'startup,bogus'], ['--trigger-modes', 'tcp,ftp'], ['--only']]) {
      const failed = await run(process.execPath, [RUN_SCRIPT, ...args, '--out', dir]).then(
        () => null,
        (error: { code?: number; stderr?: string }) => error,
      );
      assert.ok(failed !== null, `${args.join(' ')} was refused`);
      assert.equal(failed.code, 1);
      assert.match(String(failed.stderr), /expected some of/);
    }
    assert.deepEqual(await readdir(dir), []);
  });

  it('runs only the named figures and modes, into results-partial.*, leaving results.md alone', async () => {
    await run(process.execPath, [RUN_SCRIPT, '--quick', '--only', 'triggerToBlackhole,startup', '--trigger-modes', 'tcp', '--out', dir], {
      timeout: 550_000,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stderr?: string }) => {
      throw new Error(`partial bench failed:\n${String(error.stderr ?? error).slice(-3000)}`);
    });
    assert.deepEqual((await readdir(dir)).sort(), ['results-partial.json', 'results-partial.md']);
    const results = JSON.parse(await readFile(join(dir, 'results-partial.json'), 'utf8')) as BenchResults & { only: string[]; triggerModes: string[] };
    assert.deepEqual(results.only, ['triggerToBlackhole', 'startup']);
    assert.deepEqual(results.triggerModes, ['tcp']);
    const rows = results.figures.triggerToBlackhole;
    assert.deepEqual(rows.map((r) => `${r.detector} -${r.mode}`).sort(), ['ours -tcp', 'peer -tcp']);
    const ours = rows.find((r) => r.detector === 'ours')!;
    assert.ok(ours.blackholeMs !== null && ours.handshakeMs !== null && ours.handshakeMs !== undefined, 'ours -tcp has a blackhole and a handshake time');
    assert.ok(results.figures.startup.some((r) => r.detector === 'ours') && results.figures.startup.some((r) => r.detector === 'peer'));
    // Figures not named were not run.
    assert.deepEqual(results.figures.scanTypes, []);
    assert.deepEqual(results.figures.scale, []);
    assert.equal(results.figures.flood, null);
    const report = await readFile(join(dir, 'results-partial.md'), 'utf8');
    assert.match(report, /Start-up to every tripwire bound \(same run, each from its own exec; ours including its launcher\): ours [\d.]+ ms, the peer [\d.]+ ms, ratio/);
  });
});
