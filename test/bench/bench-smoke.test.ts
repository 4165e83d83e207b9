// Runs `node dist/bench/run.js --quick` for real (namespaced lab, both detectors) and checks
// that the results file has every figure, with numbers. No thresholds on speed: those are
// what the benchmark reports, not what a test should enforce.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FIGURE_NAMES, type BenchResults } from '../../bench/results.js';

const run = promisify(execFile);
const RUN_SCRIPT = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

describe('npm run bench -- --quick', { timeout: 1_200_000 }, () => {
  let dir: string;
  let results: BenchResults;
  let report: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portsentry-bench-smoke-'));
    await run(process.execPath, [RUN_SCRIPT, '--quick', '--out', dir], { timeout: 1_100_000, maxBuffer: 16 * 1024 * 1024 }).catch((error: { stderr?: string }) => {
      throw new Error(`bench --quick failed:\n${String(error.stderr ?? error).slice(-3000)}`);
    });
    results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults;
    report = await readFile(join(dir, 'results.md'), 'utf8');
  });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('measured every figure without errors, on a described machine', () => {
    assert.deepEqual(results.errors, {});
    for (const name of FIGURE_NAMES) assert.ok(name in results.figures, `figure ${name} is present`);
    assert.equal(results.quick, true);
    assert.ok(results.machine.cpuModel !== '' && results.machine.cores > 0 && /nftables/.test(results.machine.nft));
    for (const word of ['CPU', 'cores', 'Linux', 'Node', 'nftables']) assert.ok(report.includes(word) || report.includes(word.toLowerCase()), `results.md names ${word}`);
  });

  it('has trigger-to-blackhole medians and p95s for every mode of ours, and rows for the peer', () => {
    const rows = results.figures.triggerToBlackhole;
    for (const mode of ['tcp', 'udp', 'stcp', 'atcp']) {
      const ours = rows.find((r) => r.detector === 'ours' && r.mode === mode);
      assert.ok(ours !== undefined && ours.blackholeMs !== null, `ours -${mode} was blocked`);
      assert.ok(isNumber(ours.blackholeMs.median) && isNumber(ours.blackholeMs.p95) && isNumber(ours.resolutionMs?.median));
      assert.ok(
        rows.some((r) => r.detector === 'peer' && r.mode === mode),
        `peer -${mode} has a row`,
      );
    }
  });

  it('has the scan-type table for both detectors, IPv4 and IPv6, and ours sees every scan', () => {
    const rows = results.figures.scanTypes;
    for (const detector of ['ours', 'peer'] as const) {
      for (const family of [4, 6] as const) assert.ok(rows.some((r) => r.detector === detector && r.family === family));
    }
    assert.ok(
      rows.filter((r) => r.detector === 'ours').every((r) => r.blocked),
      JSON.stringify(rows),
    );
  });

  it('has numbers for leak, scale, block cost, memory, start-up and the capture path', () => {
    const { leak, scale, blockCost, memory, startup, capturePath } = results.figures;
    assert.ok(leak.length === 2 && leak.every((r) => isNumber(r.learnedPorts?.median)));
    const ours = scale.find((r) => r.detector === 'ours');
    assert.ok(ours !== undefined && isNumber(ours.blockedPerSecond) && isNumber(ours.missed) && isNumber(ours.daemonRssMb));
    assert.ok(scale.some((r) => r.detector === 'peer' && isNumber(r.blockedPerSecond)));
    assert.ok(blockCost.some((r) => r.backend === 'nftables set (ours)' && isNumber(r.addOneDaemonMs?.median) && isNumber(r.connectMs?.median)));
    assert.ok(blockCost.some((r) => r.backend === 'iptables rule per host (peer)' && isNumber(r.addOneProcessMs?.median)));
    assert.ok(memory.engine.length === 2 && memory.engine.every((e) => isNumber(e.rssMbAfter) && isNumber(e.heapUsedMbAfter)));
    assert.ok(memory.idle.some((r) => r.detector === 'ours' && isNumber(r.rssMb) && isNumber(r.idleCpuPercent)));
    assert.ok(startup.some((r) => r.detector === 'ours' && isNumber(r.toActiveMs?.median)));
    assert.ok(startup.some((r) => r.detector === 'peer' && isNumber(r.toAllBoundMs?.median)));
    assert.ok(capturePath.length > 0 && capturePath.every((r) => isNumber(r.achievedPerSecond) && isNumber(r.seenByNode) && isNumber(r.latencyMs?.median)));
  });
});
