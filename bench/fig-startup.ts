// Figure 7: start-up, from each detector's own exec until every tripwire is bound, both seen
// the same way (polling `ss` in the target's namespace). Ours is clocked from the spawn of
// `ip netns exec ... node portsentryd` (so it includes that launcher's setns and exec, measured
// on its own and stated); the peer from the moment its launcher execs portsentry (-tcp and
// -udp at once, as ours binds both in one process), leaving out the launcher's unshare, Node
// and bind mount, whose cost is measured and stated beside it. Ours also: until its "active
// and listening" line (printed once the store and capture are up too).

import { performance } from 'node:perf_hooks';
import type { BenchLab } from './bench-lab.js';
import { TCP_TRIPWIRES, UDP_TRIPWIRES, type BenchConfigPaths } from './configs.js';
import { startOurs } from './ours.js';
import { isPeerReady, startPeer } from './peer.js';
import { pollUntil } from './processes.js';
import { round, summarize, type Summary } from './stats.js';

export interface StartupRow {
  readonly detector: 'ours' | 'peer';
  readonly modes: string;
  /** Spawn to "active and listening" (ours only). */
  readonly toActiveMs: Summary | null;
  /** Own exec to every port bound, seen by polling ss (resolution: one ss run, a few ms). */
  readonly toAllBoundMs: Summary | null;
  /** What the clock starts at (absent in older results, which clocked the peer from its launcher). */
  readonly clockedFrom?: string;
  /** The launcher's own cost: ours, an `ip netns exec true` (inside the figure); the peer, spawn to its exec (outside it). */
  readonly launcherMs?: Summary | null;
  readonly launcherIncluded?: boolean;
}

/** Whether every tripwire port (TCP and UDP) is bound in the target's namespace, as ss lists it. */
export async function allTripwiresBound(bench: BenchLab): Promise<boolean> {
  const { stdout } = await bench.lab.exec(bench.target, ['ss', '-Hlntu'], { allowFailure: true });
  const has = (proto: string, port: number) => new RegExp(`^${proto}\\s.*:${port}\\s`, 'm').test(stdout);
  return TCP_TRIPWIRES.every((p) => has('tcp', p)) && UDP_TRIPWIRES.every((p) => has('udp', p));
}

export async function startup(bench: BenchLab, configs: BenchConfigPaths, repetitions: number): Promise<StartupRow[]> {
  const ours = { active: [] as number[], bound: [] as number[], launcher: [] as number[] };
  const peer = { bound: [] as number[], launcher: [] as number[] };
  for (let i = 0; i < repetitions; i++) {
    await bench.settleConnections(TCP_TRIPWIRES);
    // Ours' launcher on its own: `ip netns exec` with nothing to run.
    const launcherStarted = performance.now();
    await bench.lab.exec(bench.target, ['true']);
    ours.launcher.push(round(performance.now() - launcherStarted, 1));

    const boundWatch = pollUntil(() => allTripwiresBound(bench), 20_000, 1).then(() => performance.now());
    const daemon = await startOurs(bench, configs.ours, ['tcp', 'udp']);
    ours.active.push(round(daemon.activeAt - daemon.spawnedAt, 1));
    ours.bound.push(round((await boundWatch) - daemon.spawnedAt, 1));
    await daemon.stop();

    const peerBound = pollUntil(() => isPeerReady(bench, ['tcp', 'udp'], TCP_TRIPWIRES, UDP_TRIPWIRES), 20_000, 1).then(() => performance.now());
    const running = await startPeer(bench, configs.peer, ['tcp', 'udp']);
    peer.bound.push(round((await peerBound) - running.execAt, 1));
    peer.launcher.push(round(running.execAt - running.spawnedAt, 1));
    await running.stop();
  }
  return [
    {
      detector: 'ours',
      modes: '-tcp -udp',
      toActiveMs: summarize(ours.active),
      toAllBoundMs: summarize(ours.bound),
      clockedFrom: 'spawn of ip netns exec node portsentryd',
      launcherMs: summarize(ours.launcher),
      launcherIncluded: true,
    },
    {
      detector: 'peer',
      modes: '-tcp, -udp (two processes, started at once)',
      toActiveMs: null,
      toAllBoundMs: summarize(peer.bound),
      clockedFrom: 'exec of portsentry by its launcher',
      launcherMs: summarize(peer.launcher),
      launcherIncluded: false,
    },
  ];
}
