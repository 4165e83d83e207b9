// Figure 6: memory and idle CPU. (a) The detection engine in its own Node process fed 1M
// distinct sources (engine-memory.ts), with every source blocked at its first touch
// (SCAN_TRIGGER 0: the engine must remember each block) and with sources only counted
// (SCAN_TRIGGER 3: bounded by STATE_MAX_SOURCES). (b) The real daemon's RSS idle and its
// CPU over an idle interval, next to the peer's.

import { DAEMON_NODE_FLAGS } from '../test/support/daemon-process.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BenchLab } from './bench-lab.js';
import { benchScript } from './bench-lab.js';
import type { BenchConfigPaths } from './configs.js';
import { startDetector, type Detector } from './detectors.js';
import type { EngineMemoryResult } from './engine-memory.js';
import { perProcessOver, processTree, rssMb, type ProcessUse } from './proc-stats.js';
import { sleep } from './processes.js';

const run = promisify(execFile);
export const DEFAULT_STATE_MAX_SOURCES = 65_536;

export interface IdleRow {
  readonly detector: Detector;
  readonly modes: string;
  readonly rssMb: number | null;
  readonly treeRssMb: number;
  readonly idleSeconds: number;
  readonly idleCpuSeconds: number;
  readonly idleCpuPercent: number;
  /** Every process over the same interval (absent in older results). */
  readonly processes?: ProcessUse[];
}

export interface MemoryFigure {
  readonly engine: EngineMemoryResult[];
  readonly idle: IdleRow[];
}

export async function engineMemory(count: number, scanTrigger: number): Promise<EngineMemoryResult> {
  const { stdout } = await run(process.execPath, ['--expose-gc', ...DAEMON_NODE_FLAGS, benchScript('engine-memory'), JSON.stringify({ count, maxSources: DEFAULT_STATE_MAX_SOURCES, scanTrigger })], {
    timeout: 600_000,
  });
  return JSON.parse(String(stdout).trim()) as EngineMemoryResult;
}

export async function memory(bench: BenchLab, configs: BenchConfigPaths, plan: { engineSources: number; idleSeconds: number }): Promise<MemoryFigure> {
  const engine = [await engineMemory(plan.engineSources, 0), await engineMemory(plan.engineSources, 3)];
  const idle: IdleRow[] = [];
  const modes = ['tcp', 'udp', 'atcp', 'audp'];
  for (const detector of ['ours', 'peer'] as const) {
    const running = await startDetector(bench, configs, detector, modes);
    try {
      await sleep(1000); // past start-up work
      // Ours: the helper and its children (nft, tcpdump, logger); the peer: one process per mode.
      const pids = detector === 'ours' ? await processTree(running.pids[0]!) : [...running.pids];
      const processes = await perProcessOver(pids, plan.idleSeconds);
      const cpu = processes.reduce((sum, p) => sum + p.cpuSeconds, 0);
      idle.push({
        detector,
        modes: modes.map((m) => `-${m}`).join(' '),
        rssMb: detector === 'ours' ? await rssMb(running.pids[0]!) : null,
        treeRssMb: Math.round(processes.reduce((sum, p) => sum + (p.rssMb ?? 0), 0) * 10) / 10,
        idleSeconds: plan.idleSeconds,
        idleCpuSeconds: Math.round(cpu * 100) / 100,
        idleCpuPercent: Math.round((cpu / plan.idleSeconds) * 1000) / 10,
        processes,
      });
    } finally {
      await running.stop();
    }
  }
  return { engine, idle };
}
