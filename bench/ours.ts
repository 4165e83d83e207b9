// Our detector under test: the compiled portsentryd in the target's namespace, its log
// lines timestamped as they arrive, and its nftables set read back.

import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DAEMON_NODE_FLAGS, DAEMON_SCRIPT } from '../test/support/daemon-process.js';
import type { BenchLab } from './bench-lab.js';
import { OUR_TABLE, ourStoreFile } from './configs.js';
import { LineRecorder } from './processes.js';

export const ACTIVE_LINE = /PortSentry is now active and listening/;

export interface OurDaemon {
  readonly pid: number;
  readonly spawnedAt: number;
  readonly activeAt: number;
  readonly log: LineRecorder;
  /** keepTable: leave our nftables table (and its blocks) in the kernel, as a helper stop does. */
  stop(options?: { keepTable?: boolean }): Promise<void>;
}

export interface StartOursOptions {
  /** Start on the store as it is (the restart figure), instead of a fresh one. */
  readonly keepStore?: boolean;
  /** How long to wait for "active and listening" (default 20 s). */
  readonly activeTimeoutMs?: number;
}

export async function startOurs(bench: BenchLab, configPath: string, modes: readonly string[], options: StartOursOptions = {}): Promise<OurDaemon> {
  const store = ourStoreFile(dirname(configPath));
  if (options.keepStore !== true) for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${store}${suffix}`, { force: true });
  const spawnedAt = performance.now();
  // `ip netns exec` execs the command, so the child's pid is the daemon's.
  // As the systemd unit runs it: with Node's compile cache in a root-only directory (the
  // bench's own temporary one), so every start after the first compiles nothing.
  const child = bench.lab.spawn(bench.target, [process.execPath, ...DAEMON_NODE_FLAGS, DAEMON_SCRIPT, '-c', configPath, ...modes.map((m) => `-${m}`)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_COMPILE_CACHE: join(dirname(configPath), 'compile-cache') },
  });
  const log = new LineRecorder(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let active;
  try {
    active = await log.waitFor(ACTIVE_LINE, options.activeTimeoutMs ?? 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid ?? -1,
    spawnedAt,
    activeAt: active.at,
    log,
    stop: async (stopOptions = {}) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      if (stopOptions.keepTable !== true) await removeOurTable(bench);
    },
  };
}

export async function removeOurTable(bench: BenchLab): Promise<void> {
  await bench.lab.exec(bench.target, ['nft', 'delete', 'table', 'inet', OUR_TABLE], { allowFailure: true });
}

/** Addresses in our blocked4/blocked6 sets. */
export async function ourBlocked(bench: BenchLab): Promise<Set<string>> {
  const found = new Set<string>();
  for (const set of ['blocked4', 'blocked6']) {
    const result = await bench.lab.exec(bench.target, ['nft', '-j', 'list', 'set', 'inet', OUR_TABLE, set], { allowFailure: true, timeoutMs: 60_000 });
    if (result.code !== 0) continue;
    for (const address of parseNftSetJson(result.stdout)) found.add(address);
  }
  return found;
}

/** The element addresses of `nft -j list set` output. Pure. */
export function parseNftSetJson(text: string): string[] {
  try {
    const doc = JSON.parse(text) as { nftables?: { set?: { elem?: unknown[] } }[] };
    const out: string[] = [];
    for (const item of doc.nftables ?? []) {
      for (const element of item.set?.elem ?? []) {
        if (typeof element === 'string') out.push(element);
        else {
          const value = (element as { elem?: { val?: unknown } }).elem?.val;
          if (typeof value === 'string') out.push(value);
        }
      }
    }
    return out;
  } catch {
    return [];
  }
}
