// Starting either detector the same way, and asking either which sources it blocked, so a
// figure reads the same for both.

import type { BenchLab } from './bench-lab.js';
import { TCP_TRIPWIRES, UDP_TRIPWIRES, type BenchConfigPaths } from './configs.js';
import { ourBlocked, startOurs, type OurDaemon } from './ours.js';
import { peerBlocked, startPeer, waitPeerReady } from './peer.js';
import { pollUntil } from './processes.js';

export type Detector = 'ours' | 'peer';

/**
 * Time left after a detector reports itself up before the first probe of figures 1, 4 and 8
 * (start-up work settles: ours opens its store and capture after the tripwires). results.md
 * states it as an exclusion; figure 1 still shows the first trigger after start on its own.
 */
export const SETTLE_AFTER_START_MS = 300;

export interface RunningDetector {
  readonly detector: Detector;
  /** Ours only: the daemon (log lines, pid). */
  readonly ours: OurDaemon | null;
  readonly pids: readonly number[];
  blocked(): Promise<Set<string>>;
  stop(): Promise<void>;
}

/** `ourConfig`: another of our configs (BenchConfigPaths) than the default one. */
export async function startDetector(bench: BenchLab, configs: BenchConfigPaths, detector: Detector, modes: readonly string[], ourConfig = configs.ours): Promise<RunningDetector> {
  // Leftover connections from the previous detector's tripwires would keep these from binding.
  if (modes.includes('tcp')) {
    const left = await bench.settleConnections(TCP_TRIPWIRES);
    if (left !== null) throw new Error(`connections on the tripwire ports did not go away: ${left}`);
  }
  if (detector === 'ours') {
    const ours = await startOurs(bench, ourConfig, modes);
    return { detector, ours, pids: [ours.pid], blocked: () => ourBlocked(bench), stop: () => ours.stop() };
  }
  const peer = await startPeer(bench, configs.peer, modes);
  if (!(await waitPeerReady(bench, modes, TCP_TRIPWIRES, UDP_TRIPWIRES))) {
    await peer.stop();
    throw new Error(`peer ${modes.map((m) => `-${m}`).join(' ')} did not bind its sockets`);
  }
  return { detector, ours: null, pids: peer.pids, blocked: () => peerBlocked(bench), stop: () => peer.stop() };
}

/** Waits up to timeoutMs for `address` to appear among the detector's blocks. */
export async function becomesBlocked(running: RunningDetector, address: string, timeoutMs: number): Promise<boolean> {
  return pollUntil(async () => (await running.blocked()).has(address), timeoutMs, 100);
}
