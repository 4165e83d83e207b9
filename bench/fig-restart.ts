// Figure 12: restart while holding many blocks. A long-running host's helper holds its blocks
// twice: as "block added" events and rows in its store (what reconcile-blocks.ts re-applies at
// start) and as elements in its kernel sets (which outlive a helper stop: SIGTERM leaves the
// blocks in place). The store is filled through the product's own EventStore (one transaction
// per 10,000 blocks, as the helper batches its events), with permanent IPv6 host blocks
// (fd00:ff::/32, never on the wire; BLOCK_TIMEOUT's default 0). Then, per size: one start with
// the kernel's table gone (after a reboot: every block re-applied from the store), and N
// restarts with the table kept (the helper's own restart). Measured from the spawn of
// `ip netns exec ... node portsentryd` (as figure 7): every tripwire bound (ss polled), the
// helper's "blocks at start" line (reconciliation done), its "active and listening" line; then
// the kernel's sets read back and counted beside the ledger's count (the status RPC's
// blockedCount, the confirmed blocks the firewall owner keeps the kernel to), and the helper's
// peak RSS (VmHWM).

import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseAddress } from '../shared/domain/address.js';
import { EventStore } from '../privileged-helper/store/event-store.js';
import { SET_NAMES } from '../privileged-helper/firewall/nftables-backend.js';
import type { BenchLab } from './bench-lab.js';
import { OUR_TABLE, ourStoreFile, type BenchConfigPaths } from './configs.js';
import { allTripwiresBound } from './fig-startup.js';
import { capacityAddress } from './fig-hostile.js';
import { controlRequest } from './control-request.js';
import { removeOurTable, startOurs } from './ours.js';
import { pollUntil } from './processes.js';
import { round, summarize, type Summary } from './stats.js';

/** The helper's summary line once reconciliation is done (reconcile-blocks.ts). */
export const RECONCILED_LINE = /blocks at start: (\d+) re-applied from the store, (\d+) expired, (\d+) adopted from the firewall, (\d+) failed/;
/** Blocks written to the store per transaction. */
const STORE_BATCH = 10_000;
/**
 * A start that has not said "active and listening" in this long is stopped and reported with
 * what the kernel held by then (a bound on the bench's time at a million blocks, not a verdict
 * on speed: the row says how far it got).
 */
const START_TIMEOUT_MS = 15 * 60_000;

export type RestartKind = 'after reboot (kernel sets empty)' | 'helper restart (kernel sets kept)';

export interface RestartRun {
  /** Spawn to every tripwire bound (ss). */
  readonly toBoundMs: number | null;
  /** Spawn to the "blocks at start" line (null: no such line). */
  readonly toReconciledMs: number | null;
  readonly toActiveMs: number | null;
  /** Elements in our blocked sets, read back from the kernel after the active line. */
  readonly kernelHeld: number;
  /** The ledger's confirmed blocks (status RPC blockedCount). */
  readonly ledgerHeld: number | null;
  /** The helper's own count: re-applied + adopted, and failed, from its summary line. */
  readonly reapplied: number | null;
  readonly adopted: number | null;
  readonly failed: number | null;
  readonly peakRssMb: number | null;
}

export interface RestartRow {
  readonly blocks: number;
  readonly kind: RestartKind;
  readonly runs: number;
  readonly toBoundMs: Summary | null;
  readonly toReconciledMs: Summary | null;
  readonly toActiveMs: Summary | null;
  readonly peakRssMb: Summary | null;
  /** Smallest kernel and ledger counts over the runs (a short one shows here). */
  readonly kernelHeld: number;
  readonly ledgerHeld: number | null;
  readonly failed: number;
  /** Every run: the kernel's count equals the ledger's and the planned number of blocks. */
  readonly reconciled: boolean;
  /** The first problem, if any start did not complete (the rest of the row is then what was reached). */
  readonly problem?: string;
}

/** Element counts per set in `nft -j list table` output (sets not named are left out). Pure. */
export function countSetElements(text: string, sets: readonly string[]): number {
  let doc: { nftables?: { set?: { name?: unknown; elem?: unknown[] } }[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return 0;
  }
  let count = 0;
  for (const item of doc.nftables ?? []) {
    const set = item.set;
    if (set !== undefined && typeof set.name === 'string' && sets.includes(set.name)) count += set.elem?.length ?? 0;
  }
  return count;
}

/** Whether every run's read-back agrees with its ledger and with the blocks planned. Pure. */
export function allReconciled(runs: readonly RestartRun[], planned: number): boolean {
  return runs.length > 0 && runs.every((r) => r.kernelHeld === planned && r.ledgerHeld === planned && (r.failed ?? 0) === 0);
}

export function restartRow(blocks: number, kind: RestartKind, runs: readonly RestartRun[], problem?: string): RestartRow {
  const pick = (f: (r: RestartRun) => number | null) => summarize(runs.map(f).filter((v): v is number => v !== null));
  const ledgers = runs.map((r) => r.ledgerHeld).filter((v): v is number => v !== null);
  return {
    blocks,
    kind,
    runs: runs.length,
    toBoundMs: pick((r) => r.toBoundMs),
    toReconciledMs: pick((r) => r.toReconciledMs),
    toActiveMs: pick((r) => r.toActiveMs),
    peakRssMb: pick((r) => r.peakRssMb),
    kernelHeld: runs.length === 0 ? 0 : Math.min(...runs.map((r) => r.kernelHeld)),
    ledgerHeld: ledgers.length === 0 ? null : Math.min(...ledgers),
    failed: runs.reduce((sum, r) => sum + (r.failed ?? 0), 0),
    reconciled: problem === undefined && allReconciled(runs, blocks),
    ...(problem === undefined ? {} : { problem }),
  };
}

/** The i-th stored block's address, canonical as the helper writes it (the kernel lists it so). */
function storedAddress(i: number): string {
  return parseAddress(capacityAddress(i))!.address;
}

/** Writes `count` permanent blocks into the store as the helper records them (events and block rows). */
export function fillStore(file: string, count: number, now = Date.now()): void {
  const store = new EventStore(file);
  try {
    for (let from = 0; from < count; from += STORE_BATCH) {
      const events = [];
      for (let i = from; i < Math.min(count, from + STORE_BATCH); i++) {
        events.push({ type: 'block' as const, change: 'added' as const, at: now - count + i, address: storedAddress(i), reason: 'bench: held before the restart', until: null });
      }
      store.recordBatch(events);
    }
  } finally {
    store.close();
  }
}

async function kernelHeld(bench: BenchLab): Promise<number> {
  const result = await bench.lab.exec(bench.target, ['nft', '-j', 'list', 'table', 'inet', OUR_TABLE], { allowFailure: true, timeoutMs: 1_200_000 });
  return result.code === 0 ? countSetElements(result.stdout, SET_NAMES) : 0;
}

async function peakRssMb(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? null : round(Number(kb) / 1024, 1);
}

/** One start of the helper on the store as it is (and the kernel's table as it is). */
async function oneStart(bench: BenchLab, configs: BenchConfigPaths): Promise<RestartRun> {
  const boundWatch = pollUntil(() => allTripwiresBound(bench), START_TIMEOUT_MS, 1).then(() => performance.now());
  const daemon = await startOurs(bench, configs.ours, ['tcp', 'udp'], { keepStore: true, activeTimeoutMs: START_TIMEOUT_MS });
  try {
    const bound = await boundWatch;
    const reconciledLine = daemon.log.lines.find((l) => RECONCILED_LINE.test(l.text));
    const counts = reconciledLine === undefined ? null : RECONCILED_LINE.exec(reconciledLine.text)!;
    const peak = await peakRssMb(daemon.pid);
    // The control socket opens after the active line.
    await daemon.log.waitFor(/Control socket listening on/, 60_000);
    const status = await controlRequest(join(configs.dir, 'helper.sock'), 'status', 600_000);
    const ledger = (status?.result as { blockedCount?: unknown } | undefined)?.blockedCount;
    return {
      toBoundMs: round(bound - daemon.spawnedAt, 1),
      toReconciledMs: reconciledLine === undefined ? null : round(reconciledLine.at - daemon.spawnedAt, 1),
      toActiveMs: round(daemon.activeAt - daemon.spawnedAt, 1),
      kernelHeld: await kernelHeld(bench),
      ledgerHeld: typeof ledger === 'number' ? ledger : null,
      reapplied: counts === null ? null : Number(counts[1]),
      adopted: counts === null ? null : Number(counts[3]),
      failed: counts === null ? null : Number(counts[4]),
      peakRssMb: peak,
    };
  } finally {
    await daemon.stop({ keepTable: true });
  }
}

export async function restart(bench: BenchLab, configs: BenchConfigPaths, plan: { sizes: readonly number[]; restarts: number }): Promise<RestartRow[]> {
  const rows: RestartRow[] = [];
  const store = ourStoreFile(dirname(configs.ours));
  const clean = async () => {
    await removeOurTable(bench);
    for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${store}${suffix}`, { force: true });
  };
  // Progress on stderr: at a million blocks one start can take minutes.
  const say = (text: string) => process.stderr.write(`bench: restart: ${text}\n`);
  const described = (r: RestartRun) =>
    `bound ${r.toBoundMs} ms, reconciled ${r.toReconciledMs} ms, active ${r.toActiveMs} ms, kernel ${r.kernelHeld}, ledger ${r.ledgerHeld}, peak RSS ${r.peakRssMb} MB`;
  for (const size of plan.sizes) {
    await clean();
    try {
      const filling = performance.now();
      fillStore(store, size);
      say(`${size} blocks stored in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
      let cold: RestartRun;
      try {
        cold = await oneStart(bench, configs);
      } catch (error) {
        const reached = await kernelHeld(bench);
        say(`${size} after reboot: no start within ${START_TIMEOUT_MS / 60_000} min; the kernel held ${reached}`);
        rows.push(restartRow(size, 'after reboot (kernel sets empty)', [], `${(error as Error).message.split('\n')[0]}; the kernel held ${reached} of ${size} then`));
        continue;
      }
      say(`${size} after reboot: ${described(cold)}`);
      rows.push(restartRow(size, 'after reboot (kernel sets empty)', [cold]));
      const warm: RestartRun[] = [];
      let problem: string | undefined;
      for (let i = 0; i < plan.restarts && problem === undefined; i++) {
        try {
          warm.push(await oneStart(bench, configs));
          say(`${size} restart ${i + 1}: ${described(warm[warm.length - 1]!)}`);
        } catch (error) {
          problem = `${(error as Error).message.split('\n')[0]}; the kernel held ${await kernelHeld(bench)} of ${size} then`;
        }
      }
      rows.push(restartRow(size, 'helper restart (kernel sets kept)', warm, problem));
    } finally {
      await clean();
    }
  }
  return rows;
}
