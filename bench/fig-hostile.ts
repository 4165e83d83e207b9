// Figures 8 and 9: blocking under a hostile network. (8) A spoofed flood of 100,000 distinct
// sources at 10,000/s against -atcp: how fast the daemon absorbs it, how long after the last
// packet it has caught up, its peak RSS, and whether a real scanner right after the flood is
// still blackholed. (9) Capacity: a blocked set loaded to BLOCK_SET_SIZE (1,000,000), the
// kernel memory it takes, the cost of one more block through the daemon's backend, and the
// cost of a block when the set is full (evicting the soonest to expire, then the oldest, of
// the blocks the backend knows, while it reads the rest in the background). What the set
// holds is read back from the kernel (after the load, and after the newest scanner's block),
// never taken from the plan: a load cut short reports the short count.

import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { NftablesBackend } from '../privileged-helper/firewall/nftables-backend.js';
import { parseAddress } from '../shared/domain/address.js';
import type { BenchLab } from './bench-lab.js';
import { ADVANCED_TRIGGER_PORT, type BenchConfigPaths } from './configs.js';
import { SETTLE_AFTER_START_MS, startDetector } from './detectors.js';
import { sleep, runArgv } from './processes.js';
import { flood, rawTrigger } from './raw-packets.js';
import { triggerRequest } from './fig-trigger.js';
import { parseNftSetJson } from './ours.js';
import { round } from './stats.js';

/** 100,000 sources from here upward stay inside 198.18.0.0/15 and clear of the lab's hosts. */
export const FLOOD_RANGE = '198.18.64.0/18';

export interface FloodRow {
  readonly sources: number;
  readonly offeredPerSecond: number;
  readonly sendSeconds: number;
  /** Sources the daemon reported blocked (its "has been blocked" lines). */
  readonly reportedBlocked: number;
  /** Sources handled per second: reported blocked / (last such line - first packet). */
  readonly absorbedPerSecond: number;
  /** Last packet sent to the daemon's last log line about the flood. */
  readonly catchUpSeconds: number;
  readonly peakRssMb: number | null;
  readonly failedBlocks: number;
  /** A fresh scanner right after the flood: trigger to blackhole (null: never blocked). */
  readonly scannerAfterMs: number | null;
}

export async function floodAbsorbed(bench: BenchLab, configs: BenchConfigPaths, plan: { sources: number; rate: number }): Promise<FloodRow> {
  const running = await startDetector(bench, configs, 'ours', ['atcp']);
  try {
    const ours = running.ours!;
    await sleep(SETTLE_AFTER_START_MS);
    const sent = await flood(bench, { target: bench.target.v4, port: ADVANCED_TRIGGER_PORT, rate: plan.rate, sourceRange: FLOOD_RANGE, count: plan.sources });
    // Caught up when the log has been quiet for 2 s (the figure is the last line's arrival).
    let seen = ours.log.lines.length;
    for (;;) {
      await sleep(2000);
      if (ours.log.lines.length === seen) break;
      seen = ours.log.lines.length;
    }
    const lines = ours.log.lines;
    const lastAt = performance.timeOrigin + lines[lines.length - 1]!.at;
    const blockedLines = lines.filter((l) => l.text.includes('has been blocked'));
    const lastBlockAt = blockedLines.length > 0 ? performance.timeOrigin + blockedLines[blockedLines.length - 1]!.at : lastAt;
    const status = await readFile(`/proc/${ours.pid}/status`, 'utf8').catch(() => '');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    const [scanner] = await bench.freshSources(1);
    const after = await rawTrigger(bench, triggerRequest('atcp', scanner!.v4, bench.target.v4));
    return {
      sources: plan.sources,
      offeredPerSecond: plan.rate,
      sendSeconds: round((sent.endedAt - sent.startedAt) / 1000, 3),
      reportedBlocked: blockedLines.length,
      absorbedPerSecond: round(blockedLines.length / Math.max(0.001, (lastBlockAt - sent.startedAt) / 1000), 0),
      catchUpSeconds: round(Math.max(0, lastAt - sent.endedAt) / 1000, 3),
      peakRssMb: hwm === undefined ? null : round(Number(hwm) / 1024, 1),
      failedBlocks: lines.filter((l) => /Could not block/.test(l.text)).length,
      scannerAfterMs: after.blackholeMs === null ? null : round(after.blackholeMs, 3),
    };
  } finally {
    await running.stop();
  }
}

export interface CapacityRow {
  readonly setSize: number;
  /** Elements in the kernel's set after the newest scanner's block, read back (`nft -j list set`). */
  readonly held: number;
  /** Elements in the kernel's set right after the bulk load, read back (absent in older results). */
  readonly heldAfterLoad?: number;
  /** The elements the load was planned to put in (the set size less the 5 added one at a time). */
  readonly plannedLoad?: number;
  /** Whether the newest scanner's address (the last block into the full set) is in the kernel's set. */
  readonly newestBlocked?: boolean;
  /** How long one read-back of the whole set took (the exact count costs a full dump). */
  readonly readBackSeconds?: number;
  readonly bulkLoadSeconds: number;
  /** Kernel memory for the elements: Slab + VmallocUsed growth (machine-wide, so approximate). */
  readonly kernelMb: number;
  /** One more block through the daemon's backend with the set nearly full. */
  readonly addOneMs: number[];
  /** A block when the set is full (victims chosen from what the backend knows; no read on this path). */
  readonly addWhenFullFirstMs: number;
  readonly addWhenFullNextMs: number[];
  readonly evicted: number;
  /** The read of the set the backend starts in the background to learn what it had not seen (null: none reported). */
  readonly backgroundReadSeconds?: number | null;
}

const CAPACITY_TABLE = 'psbench_cap';
/** One of the backend's sets; every set has the same size and kind. */
const CAPACITY_SET = 'blocked6_hosts';

async function kernelKb(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return kb('Slab') + kb('VmallocUsed');
}

/** The i-th test address for the capacity set: fd00:ff::/32 hosts, never on the wire. */
export function capacityAddress(i: number): string {
  return `fd00:ff:${(i >>> 16).toString(16)}::${(i & 0xffff).toString(16)}`;
}

/** The set's elements as the kernel holds them (canonical text), and how long the dump took. */
async function readBack(nft: readonly string[]): Promise<{ elements: Set<string>; seconds: number }> {
  const started = performance.now();
  const { stdout } = await runArgv([...nft, '-j', 'list', 'set', 'inet', CAPACITY_TABLE, CAPACITY_SET], { timeoutMs: 1_200_000 });
  const elements = new Set(parseNftSetJson(stdout).map((e) => parseAddress(e)?.address ?? e));
  return { elements, seconds: (performance.now() - started) / 1000 };
}

export interface CapacityHooks {
  /** Runs right after the bulk load, before the read-back (the bench's own test cuts the load short here). */
  readonly afterLoad?: (nft: readonly string[], table: string, set: string) => Promise<void>;
}

/** `target`: the namespace whose kernel holds the set (the bench lab's target). */
export async function capacity(target: { readonly netns: string }, plan: { setSize: number }, hooks: CapacityHooks = {}): Promise<CapacityRow> {
  const ns = target.netns;
  const nft = ['ip', 'netns', 'exec', ns, 'nft'] as const;
  let evicted = 0;
  let backgroundRead: number | null = null;
  const backend = new NftablesBackend({
    table: CAPACITY_TABLE,
    nftCommand: nft,
    setSize: plan.setSize,
    log: (line) => {
      const read = /from the kernel in the background in ([\d.]+) s/.exec(line);
      if (read !== null) backgroundRead = Number(read[1]);
    },
  });
  backend.setEvictionListener((targets) => (evicted += targets.length));
  await backend.start();
  try {
    const preload = plan.setSize - 5;
    const before = await kernelKb();
    const started = performance.now();
    for (let from = 0; from < preload; from += 50_000) {
      const elements: string[] = [];
      for (let i = from; i < Math.min(preload, from + 50_000); i++) elements.push(capacityAddress(i));
      await runArgv([...nft, '-f', '-'], { input: `add element inet ${CAPACITY_TABLE} ${CAPACITY_SET} { ${elements.join(', ')} }\n`, timeoutMs: 600_000 });
    }
    const bulkLoadSeconds = round((performance.now() - started) / 1000, 3);
    const kernelMb = round(((await kernelKb()) - before) / 1024, 1);
    await hooks.afterLoad?.(nft, CAPACITY_TABLE, CAPACITY_SET);
    const afterLoad = await readBack(nft);
    const time = async (i: number) => {
      const t = performance.now();
      await backend.block(capacityAddress(i));
      return round(performance.now() - t, 3);
    };
    const addOneMs: number[] = [];
    for (let i = 0; i < 5; i++) addOneMs.push(await time(preload + i));
    const addWhenFullFirstMs = await time(plan.setSize + 1);
    const addWhenFullNextMs: number[] = [];
    for (let i = 0; i < 5; i++) addWhenFullNextMs.push(await time(plan.setSize + 2 + i));
    // The elements were loaded behind the backend's back: it reads them in the background.
    // (Only an eviction starts that read: a set that never filled has nothing to wait for.)
    const deadline = performance.now() + 20 * 60_000;
    while (evicted > 0 && backgroundRead === null && performance.now() < deadline) await sleep(500);
    const newest = parseAddress(capacityAddress(plan.setSize + 6))!.address;
    const final = await readBack(nft);
    return {
      setSize: plan.setSize,
      held: final.elements.size,
      heldAfterLoad: afterLoad.elements.size,
      plannedLoad: preload,
      newestBlocked: final.elements.has(newest),
      readBackSeconds: round(Math.max(afterLoad.seconds, final.seconds), 1),
      bulkLoadSeconds,
      kernelMb,
      addOneMs,
      addWhenFullFirstMs,
      addWhenFullNextMs,
      evicted,
      backgroundReadSeconds: backgroundRead,
    };
  } finally {
    await backend.remove();
  }
}
