// `npm run bench`: portsentryd side by side with Debian's portsentry 1.2, in a throwaway
// network-namespace lab. Writes bench/results.json and bench/results.md.
//   node dist/bench/run.js [--quick] [--out DIR] [--only FIGURE,...] [--trigger-modes tcp,udp,stcp,atcp]
// --quick runs a tiny version of every figure (well under 2 minutes); the full run takes
// several minutes on 2 cores. --only runs the named figures (names as in results.json, e.g.
// triggerToBlackhole,startup) and --trigger-modes limits figure 1 to some modes; such a partial
// run writes results-partial.json and results-partial.md and leaves results.md and the README
// alone (they quote a full run).

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { BenchLab } from './bench-lab.js';
import { writeBenchConfigs } from './configs.js';
import { blockCost } from './fig-block-cost.js';
import { capturePath } from './fig-capture.js';
import { fleetFigure } from './fig-fleet.js';
import { capacity, floodAbsorbed } from './fig-hostile.js';
import { leak } from './fig-leak.js';
import { loneProbe } from './fig-lone-probe.js';
import { masscan } from './fig-masscan.js';
import { memory } from './fig-memory.js';
import { restart } from './fig-restart.js';
import { falseBlocks } from './fig-false-blocks.js';
import { scale } from './fig-scale.js';
import { scanTypes, SCAN_TYPES } from './fig-scan-types.js';
import { startup } from './fig-startup.js';
import { TRIGGER_MODES, triggerToBlackhole, type TriggerMode } from './fig-trigger.js';
import { machineInfo } from './machine.js';
import { renderReport, spliceReadme } from './report.js';
import { FIGURE_NAMES, type BenchResults } from './results.js';
import { analyseTargets } from './targets.js';

export interface BenchPlan {
  readonly repetitions: number;
  readonly scans: readonly (typeof SCAN_TYPES)[number][];
  readonly leakRepetitions: number;
  readonly scale: { ours: number; peer: number; rate: number; peerRate: number };
  readonly blockCost: { sizes: readonly number[]; adds: number; connects: number };
  readonly memory: { engineSources: number; idleSeconds: number };
  readonly startupRepetitions: number;
  /** Figure 1: detector starts per mode; "first after start" is the median over them. */
  readonly triggerStarts: number;
  readonly capture: { rates: readonly number[]; seconds: number };
  readonly flood: { sources: number; rate: number };
  readonly capacity: { setSize: number };
  /** Figure 10: lone triggers per detector and mode. */
  readonly loneProbeRepetitions: number;
  /** Figure 11: one source at masscan's pace. */
  readonly masscan: { rates: readonly number[]; seconds: number };
  /** Figure 12: blocks stored before a restart, and warm restarts per size (after one cold start). */
  readonly restart: { sizes: readonly number[]; restarts: number };
}

export const FULL_PLAN: BenchPlan = {
  repetitions: 30,
  scans: SCAN_TYPES,
  leakRepetitions: 3,
  scale: { ours: 10_000, peer: 300, rate: 20_000, peerRate: 1000 },
  blockCost: { sizes: [1000, 10_000, 100_000], adds: 20, connects: 300 },
  memory: { engineSources: 1_000_000, idleSeconds: 60 },
  startupRepetitions: 5,
  triggerStarts: 5,
  capture: { rates: [10_000, 50_000, 100_000], seconds: 1 },
  flood: { sources: 100_000, rate: 10_000 },
  capacity: { setSize: 1_000_000 },
  loneProbeRepetitions: 10,
  masscan: { rates: [50_000, 100_000], seconds: 10 },
  restart: { sizes: [200_000, 1_000_000], restarts: 2 },
};

export const QUICK_PLAN: BenchPlan = {
  repetitions: 3,
  scans: ['-sS', '-sU'],
  leakRepetitions: 1,
  scale: { ours: 300, peer: 20, rate: 5000, peerRate: 500 },
  blockCost: { sizes: [1000], adds: 3, connects: 50 },
  memory: { engineSources: 100_000, idleSeconds: 2 },
  startupRepetitions: 1,
  triggerStarts: 1,
  capture: { rates: [5000], seconds: 0.5 },
  flood: { sources: 2000, rate: 2000 },
  capacity: { setSize: 20_000 },
  loneProbeRepetitions: 2,
  masscan: { rates: [5000], seconds: 1 },
  restart: { sizes: [5000], restarts: 1 },
};

interface RunArgs {
  readonly quick: boolean;
  readonly out: string;
  /** Figures to run; null: all. */
  readonly only: ReadonlySet<string> | null;
  readonly triggerModes: readonly TriggerMode[];
}

function parseArgs(argv: readonly string[]): RunArgs {
  let quick = false;
  let out = fileURLToPath(new URL('../../bench/', import.meta.url));
  let only: Set<string> | null = null;
  let triggerModes: TriggerMode[] = [...TRIGGER_MODES];
  const usage = 'usage: run.js [--quick] [--out DIR] [--only FIGURE,...] [--trigger-modes MODE,...]';
  const list = (value: string | undefined, allowed: readonly string[], what: string): string[] => {
    const items = (value ?? '').split(',').filter((item) => item !== '');
    const unknown = items.filter((item) => !allowed.includes(item));
    if (items.length === 0 || unknown.length > 0) throw new Error(`${what}: expected some of ${allowed.join(',')}, got "${value ?? ''}"; ${usage}`);
    return items;
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') quick = true;
    else if (argv[i] === '--out' && argv[i + 1] !== undefined) out = argv[++i]!;
    else if (argv[i] === '--only') only = new Set(list(argv[++i], [...FIGURE_NAMES, 'fleet'], '--only'));
    else if (argv[i] === '--trigger-modes') triggerModes = list(argv[++i], TRIGGER_MODES, '--trigger-modes') as TriggerMode[];
    else throw new Error(`unknown argument ${String(argv[i])}; ${usage}`);
  }
  return { quick, out, only, triggerModes };
}

async function main(): Promise<void> {
  const { quick, out, only, triggerModes } = parseArgs(process.argv.slice(2));
  const partial = only !== null || triggerModes.length < TRIGGER_MODES.length;
  const plan = quick ? QUICK_PLAN : FULL_PLAN;
  const started = performance.now();
  const errors: Record<string, string> = {};
  const step = async <T>(name: string, empty: T, action: () => Promise<T>): Promise<T> => {
    if (only !== null && !only.has(name)) return empty;
    const began = performance.now();
    process.stderr.write(`bench: ${name}...\n`);
    try {
      const value = await action();
      process.stderr.write(`bench: ${name} done in ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
      return value;
    } catch (error) {
      errors[name] = (error as Error).message.split('\n')[0] ?? String(error);
      process.stderr.write(`bench: ${name} FAILED: ${(error as Error).stack ?? String(error)}\n`);
      return empty;
    }
  };

  const dir = await mkdtemp(join(tmpdir(), 'portsentry-bench-'));
  const bench = await BenchLab.create();
  let results: BenchResults;
  try {
    const configs = await writeBenchConfigs(dir, [bench.target.v4, bench.target.v6, bench.client.v4, bench.client.v6]);
    const stopService = await bench.startService();
    try {
      const figures = {
        triggerToBlackhole: await step('triggerToBlackhole', [], () => triggerToBlackhole(bench, configs, plan.repetitions, plan.triggerStarts, triggerModes)),
        scanTypes: await step('scanTypes', [], () => scanTypes(bench, configs, plan.scans)),
        leak: await step('leak', [], () => leak(bench, configs, plan.leakRepetitions)),
        scale: await step('scale', [], () => scale(bench, configs, plan.scale)),
        blockCost: await step('blockCost', [], () => blockCost(bench, plan.blockCost)),
        memory: await step('memory', { engine: [], idle: [] }, () => memory(bench, configs, plan.memory)),
        startup: await step('startup', [], () => startup(bench, configs, plan.startupRepetitions)),
        capturePath: await step('capturePath', [], () => capturePath(bench, plan.capture)),
        ...(await step<{ fleet?: Awaited<ReturnType<typeof fleetFigure>> }>('fleet', {}, async () => ({ fleet: await fleetFigure(quick) }))),
        flood: await step('flood', null, () => floodAbsorbed(bench, configs, plan.flood)),
        capacity: await step('capacity', null, () => capacity(bench.target, plan.capacity)),
        loneProbe: await step('loneProbe', [], () => loneProbe(bench, configs, plan.loneProbeRepetitions, triggerModes)),
        masscan: await step('masscan', [], () => masscan(bench, configs, plan.masscan)),
        // Before restart: that figure's store of a million blocks leaves the most behind.
        falseBlocks: await step('falseBlocks', [], () => falseBlocks(bench, configs)),
        restart: await step('restart', [], () => restart(bench, configs, plan.restart)),
      };
      results = { machine: await machineInfo(), quick, repetitions: plan.repetitions, durationSeconds: Math.round((performance.now() - started) / 1000), figures, errors };
    } finally {
      stopService();
    }
  } finally {
    await bench.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(out, { recursive: true });
  const name = partial ? 'results-partial' : 'results';
  await writeFile(join(out, `${name}.json`), `${JSON.stringify({ ...results, ...(partial ? { only: [...(only ?? FIGURE_NAMES)], triggerModes } : {}) }, null, 2)}\n`);
  const report = renderReport(results, analyseTargets(results));
  await writeFile(join(out, `${name}.md`), report);
  if (!quick && !partial) {
    // The README quotes the latest full run as written, between its bench markers.
    const readmePath = join(out, '..', 'README.md');
    const readme = await readFile(readmePath, 'utf8').catch(() => null);
    if (readme !== null) await writeFile(readmePath, spliceReadme(readme, report));
  }
  process.stderr.write(
    `bench: wrote ${join(out, `${name}.json`)} and ${name}.md in ${results.durationSeconds} s${Object.keys(errors).length > 0 ? ` (${Object.keys(errors).length} figure(s) failed)` : ''}\n`,
  );
  // Exit explicitly: a helper left behind by a failed figure must not keep the run alive.
  process.exit(Object.keys(errors).length > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
