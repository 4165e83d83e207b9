// Figure 7: start-up, from spawn until every tripwire is bound. Ours: until its
// "active and listening" line (printed after every socket is bound and capture runs), and,
// measured the same way as the peer, until `ss` shows every port. The peer: until `ss`
// shows every port of its -tcp and -udp processes.

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
  /** Spawn to every port bound, seen by polling ss (resolution: one ss run, a few ms). */
  readonly toAllBoundMs: Summary | null;
}

async function allBound(bench: BenchLab): Promise<boolean> {
  const { stdout } = await bench.lab.exec(bench.target, ['ss', '-Hlntu'], { allowFailure: true });
  const has = (proto: string, port: number) => new RegExp(`^${proto}\\s.*:${port}\\s`, 'm').test(stdout);
  return TCP_TRIPWIRES.every((p) => has('tcp', p)) && UDP_TRIPWIRES.every((p) => has('udp', p));
}

export async function startup(bench: BenchLab, configs: BenchConfigPaths, repetitions: number): Promise<StartupRow[]> {
  const ours = { active: [] as number[], bound: [] as number[] };
  const peer: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    await bench.settleConnections(TCP_TRIPWIRES);
    const spawnedAt = performance.now();
    const boundWatch = pollUntil(() => allBound(bench), 20_000, 1).then(() => performance.now());
    const daemon = await startOurs(bench, configs.ours, ['tcp', 'udp']);
    ours.active.push(round(daemon.activeAt - spawnedAt, 1));
    ours.bound.push(round((await boundWatch) - spawnedAt, 1));
    await daemon.stop();

    const peerStarted = performance.now();
    const peerBound = pollUntil(() => isPeerReady(bench, ['tcp', 'udp'], TCP_TRIPWIRES, UDP_TRIPWIRES), 20_000, 1).then(() => performance.now());
    const running = await startPeer(bench, configs.peer, ['tcp', 'udp']);
    peer.push(round((await peerBound) - peerStarted, 1));
    await running.stop();
  }
  return [
    { detector: 'ours', modes: '-tcp -udp', toActiveMs: summarize(ours.active), toAllBoundMs: summarize(ours.bound) },
    { detector: 'peer', modes: '-tcp, -udp (two processes)', toActiveMs: null, toAllBoundMs: summarize(peer) },
  ];
}
