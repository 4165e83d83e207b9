// Figure 5: cost as blocks grow. With 1k/10k/100k addresses already blocked, (a) the time to
// add one more block and (b) the connect latency of an unblocked client to the target's
// service (its packets are checked against every block on the way in). Ours: elements of
// one nftables set (loaded in bulk with `nft -f`), adding one through the daemon's own
// backend (NftablesBackend, a persistent nft) and through a one-shot `nft add element`.
// The peer's way: one iptables rule per host (loaded with iptables-restore), adding one
// with `iptables -I INPUT -s X -j DROP` as its KILL_ROUTE does.

import { performance } from 'node:perf_hooks';
import { NftablesBackend } from '../privileged-helper/firewall/nftables-backend.js';
import type { BenchLab } from './bench-lab.js';
import { SERVICE_PORT } from './bench-lab.js';
import { OUR_TABLE } from './configs.js';
import { runArgv } from './processes.js';
import { round, summarize, type Summary } from './stats.js';

export interface BlockCostRow {
  readonly backend: 'nftables set (ours)' | 'iptables rule per host (peer)' | 'none (baseline)';
  readonly existingBlocks: number;
  readonly bulkLoadSeconds: number | null;
  /** Ours: through the daemon's persistent nft. */
  readonly addOneDaemonMs: Summary | null;
  /** One process per block: `nft add element` / `iptables -I`. */
  readonly addOneProcessMs: Summary | null;
  readonly connectMs: Summary | null;
}

/** The i-th blocked address: 198.18.1.0 upward (the lab's own /24 and the client stay clear). Pure. */
export function blockedAddress(i: number): string {
  const n = 256 + i;
  if (n >= 131_072) throw new RangeError('198.18.0.0/15 holds at most 130,816 such addresses');
  return `198.${18 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`;
}

/** At most this many connect samples are dropped at the start of a series. */
export const WARM_UP_CONNECTS = 10;

/** Connect samples left out at the start of each series (warm-up: the client's first connects pay for ARP and cold caches); results.md says so. Pure. */
export function warmUpConnects(samples: number): number {
  return Math.min(WARM_UP_CONNECTS, Math.floor(samples / 5));
}

async function connectLatency(bench: BenchLab, count: number): Promise<Summary | null> {
  const { latenciesMs } = await bench.nodeScript<{ latenciesMs: number[] }>(bench.client, 'attacker-probe', [
    'latency',
    JSON.stringify({ target: bench.target.v4, servicePort: SERVICE_PORT, source: bench.client.v4, count }),
  ]);
  return summarize(latenciesMs.slice(warmUpConnects(latenciesMs.length)).map((v) => round(v, 4)));
}

async function timeEach(count: number, action: (i: number) => Promise<unknown>): Promise<Summary | null> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await action(i);
    samples.push(round(performance.now() - started, 3));
  }
  return summarize(samples);
}

async function oursAt(bench: BenchLab, existing: number, adds: number, connects: number): Promise<BlockCostRow> {
  const ns = bench.target.netns;
  const backend = new NftablesBackend({ table: OUR_TABLE, nftCommand: ['ip', 'netns', 'exec', ns, 'nft'] });
  await backend.start();
  const lines = [`add element inet ${OUR_TABLE} blocked4 {`];
  for (let i = 0; i < existing; i++) lines.push(`${blockedAddress(i)},`);
  lines.push('}');
  const loadStarted = performance.now();
  await runArgv(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: `${lines.join('\n')}\n` });
  const bulkLoadSeconds = round((performance.now() - loadStarted) / 1000, 3);
  await backend.block(blockedAddress(existing + 2 * adds + 1)); // spawn the persistent nft before timing
  const addOneDaemonMs = await timeEach(adds, (i) => backend.block(blockedAddress(existing + i)));
  const addOneProcessMs = await timeEach(adds, (i) => runArgv(['ip', 'netns', 'exec', ns, 'nft', 'add', 'element', 'inet', OUR_TABLE, 'blocked4', '{', blockedAddress(existing + adds + i), '}']));
  const connectMs = await connectLatency(bench, connects);
  await backend.remove();
  return { backend: 'nftables set (ours)', existingBlocks: existing, bulkLoadSeconds, addOneDaemonMs, addOneProcessMs, connectMs };
}

async function iptablesAt(bench: BenchLab, existing: number, adds: number, connects: number): Promise<BlockCostRow> {
  const ns = bench.target.netns;
  const lines = ['*filter'];
  for (let i = 0; i < existing; i++) lines.push(`-A INPUT -s ${blockedAddress(i)}/32 -j DROP`);
  lines.push('COMMIT');
  const loadStarted = performance.now();
  await runArgv(['ip', 'netns', 'exec', ns, 'iptables-restore', '--noflush'], { input: `${lines.join('\n')}\n`, timeoutMs: 600_000 });
  const bulkLoadSeconds = round((performance.now() - loadStarted) / 1000, 3);
  const addOneProcessMs = await timeEach(adds, (i) =>
    runArgv(['ip', 'netns', 'exec', ns, '/usr/sbin/iptables', '-I', 'INPUT', '-s', blockedAddress(existing + i), '-j', 'DROP'], { timeoutMs: 120_000 }),
  );
  const connectMs = await connectLatency(bench, connects);
  await runArgv(['ip', 'netns', 'exec', ns, 'iptables', '-F', 'INPUT'], { timeoutMs: 120_000 });
  return { backend: 'iptables rule per host (peer)', existingBlocks: existing, bulkLoadSeconds, addOneDaemonMs: null, addOneProcessMs, connectMs };
}

export async function blockCost(bench: BenchLab, plan: { sizes: readonly number[]; adds: number; connects: number }): Promise<BlockCostRow[]> {
  const rows: BlockCostRow[] = [];
  rows.push({ backend: 'none (baseline)', existingBlocks: 0, bulkLoadSeconds: null, addOneDaemonMs: null, addOneProcessMs: null, connectMs: await connectLatency(bench, plan.connects) });
  for (const size of plan.sizes) {
    rows.push(await oursAt(bench, size, plan.adds, plan.connects));
    // Each iptables -I at 100k rules rewrites a huge chain: fewer repetitions there.
    rows.push(await iptablesAt(bench, size, size >= 100_000 ? Math.min(plan.adds, 5) : plan.adds, plan.connects));
  }
  return rows;
}
