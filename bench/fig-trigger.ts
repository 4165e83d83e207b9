// Figure 1: trigger to blackhole. For each detector and mode, N fresh attacker addresses each
// send one trigger and then probe the target's open service with raw SYNs every ~0.1 ms
// until the answers stop (raw-packets.ts explains the clock and the resolution). One
// warm-up trigger per start is left out of the figure and reported on its own (it pays for
// the first nft transaction and a cold JIT). For ours, the daemon's log lines split the
// time into detection (trigger to its attack line) and response (attack line to the
// "has been blocked" line), stamped on arrival here and lined up by wall clock.

import type { BenchLab } from './bench-lab.js';
import { SERVICE_PORT } from './bench-lab.js';
import { ADVANCED_TRIGGER_PORT, TRIGGER_TCP_PORT, TRIGGER_UDP_PORT, type BenchConfigPaths } from './configs.js';
import { startDetector, type Detector } from './detectors.js';
import { sleep } from './processes.js';
import { rawTrigger, type RawTriggerRequest, type RawTriggerResult } from './raw-packets.js';
import { round, summarize, type Summary } from './stats.js';

export const TRIGGER_MODES = ['tcp', 'udp', 'stcp', 'atcp'] as const;
export type TriggerMode = (typeof TRIGGER_MODES)[number];
/** Target probe interval; the achieved one is reported (it is the resolution). */
export const PROBE_INTERVAL_US = 100;

export interface TriggerRow {
  readonly detector: Detector;
  readonly mode: TriggerMode;
  readonly blackholeMs: Summary | null;
  /** Width of the interval the blackhole fell in (last answered probe .. first silent one). */
  readonly resolutionMs: Summary | null;
  readonly probeIntervalMs: Summary | null;
  /** Ours: trigger to the attack log line, and attack line to the "blocked" line. */
  readonly detectMs: Summary | null;
  readonly respondMs: Summary | null;
  readonly firstAfterStartMs: number | null;
  readonly repetitions: number;
  readonly neverBlocked: number;
}

export function triggerRequest(mode: TriggerMode, source: string, target: string): RawTriggerRequest {
  const kind = mode === 'tcp' ? 'tcp' : mode === 'udp' ? 'udp' : 'syn';
  const port = mode === 'udp' ? TRIGGER_UDP_PORT : mode === 'atcp' ? ADVANCED_TRIGGER_PORT : TRIGGER_TCP_PORT;
  return { kind, source, target, port, servicePort: SERVICE_PORT, intervalUs: PROBE_INTERVAL_US, giveUpMs: 2000 };
}

async function measureMode(bench: BenchLab, configs: BenchConfigPaths, detector: Detector, mode: TriggerMode, repetitions: number): Promise<TriggerRow> {
  const running = await startDetector(bench, configs, detector, [mode]);
  const results: RawTriggerResult[] = [];
  const detect: number[] = [];
  const respond: number[] = [];
  let firstAfterStartMs: number | null;
  try {
    await sleep(300); // let start-up work settle
    const [warmUp, ...sources] = await bench.freshSources(repetitions + 1);
    firstAfterStartMs = (await rawTrigger(bench, triggerRequest(mode, warmUp!.v4, bench.target.v4))).blackholeMs;
    for (const source of sources) {
      const result = await rawTrigger(bench, triggerRequest(mode, source.v4, bench.target.v4));
      results.push(result);
      const lines = running.ours?.log.lines.filter((l) => l.text.includes(`${source.v4}/`) || l.text.includes(`Host ${source.v4} `)) ?? [];
      const attack = lines.find((l) => / from host: /.test(l.text));
      const blocked = lines.find((l) => /has been blocked/.test(l.text));
      if (attack !== undefined) detect.push(round(performance.timeOrigin + attack.at - result.triggerWallMs, 3));
      if (attack !== undefined && blocked !== undefined) respond.push(round(blocked.at - attack.at, 3));
    }
  } finally {
    await running.stop();
  }
  const blocked = results.filter((r) => r.blackholeMs !== null);
  return {
    detector,
    mode,
    blackholeMs: summarize(blocked.map((r) => round(r.blackholeMs!, 3))),
    resolutionMs: summarize(blocked.map((r) => round(r.blackholeMs! - (r.lastAnsweredMs ?? 0), 3))),
    probeIntervalMs: summarize(results.map((r) => round(r.meanIntervalMs, 4))),
    detectMs: summarize(detect),
    respondMs: summarize(respond),
    firstAfterStartMs: firstAfterStartMs === null ? null : round(firstAfterStartMs, 3),
    repetitions,
    neverBlocked: results.length - blocked.length,
  };
}

export async function triggerToBlackhole(bench: BenchLab, configs: BenchConfigPaths, repetitions: number): Promise<TriggerRow[]> {
  const rows: TriggerRow[] = [];
  // The peer first: its tripwires bind without SO_REUSEADDR, so TIME_WAIT sockets left on
  // port 31337 by our -tcp runs would keep it from binding.
  for (const detector of ['peer', 'ours'] as const) {
    for (const mode of TRIGGER_MODES) rows.push(await measureMode(bench, configs, detector, mode, repetitions));
  }
  return rows;
}
