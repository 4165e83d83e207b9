// Figure 1: trigger to blackhole. For each detector and mode, N fresh attacker addresses each
// send one trigger and then probe the target's open service with raw SYNs every ~0.1 ms
// until the answers stop (raw-packets.ts explains the clock and the resolution). One
// warm-up trigger per start is left out of the figure and reported on its own (it pays for
// the first nft transaction and a cold JIT). For ours, the daemon's log lines split the
// time into detection (trigger to its attack line) and response (attack line to the
// "has been blocked" line), stamped on arrival here and lined up by wall clock.
// The detector is started several times: "first after start" is a median over those starts
// (one sample says little on a shared machine), and the repetitions are spread over them.
// For -tcp the handshake column is how long the attacker's connect() took: the first probe
// leaves only after it, so it bounds what the blackhole figure can show from below.

import type { BenchLab } from './bench-lab.js';
import { SERVICE_PORT } from './bench-lab.js';
import { ADVANCED_TRIGGER_PORT, TRIGGER_TCP_PORT, TRIGGER_UDP_PORT, type BenchConfigPaths } from './configs.js';
import { SETTLE_AFTER_START_MS, startDetector, type Detector } from './detectors.js';
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
  /** Median over `starts` of the first trigger after each start. */
  readonly firstAfterStartMs: number | null;
  /** The first trigger after each start (absent in results written before starts were repeated). */
  readonly firstAfterStart?: Summary | null;
  readonly starts?: number;
  /** -tcp: the attacker's connect() (handshake), ms after the trigger left. */
  readonly handshakeMs?: Summary | null;
  /** Repetitions whose very first probe went unanswered: the block was in before it left. */
  readonly blockedBeforeFirstProbe?: number;
  readonly repetitions: number;
  /** Repetitions (not counting the first trigger after each start) never blocked. */
  readonly neverBlocked: number;
  /** First triggers after a start that were never blocked (absent in older results): counted, not dropped. */
  readonly firstNeverBlocked?: number;
}

/** What one detector and mode gave: the first trigger after each start, and the rest. */
export interface TriggerSamples {
  readonly firsts: readonly RawTriggerResult[];
  readonly results: readonly RawTriggerResult[];
  readonly handshakes: readonly number[];
  readonly detect: readonly number[];
  readonly respond: readonly number[];
}

/**
 * The row of figure 1 from its samples. A trigger that was never blocked has no time: it is
 * counted in neverBlocked (firstNeverBlocked for the first after a start), never silently left
 * out of the medians' denominators. Pure.
 */
export function triggerRow(detector: Detector, mode: TriggerMode, starts: number, repetitions: number, samples: TriggerSamples): TriggerRow {
  const { firsts, results } = samples;
  const blocked = results.filter((r) => r.blackholeMs !== null);
  const firstsBlocked = firsts.filter((r) => r.blackholeMs !== null).map((r) => round(r.blackholeMs!, 3));
  const firstAfterStart = summarize(firstsBlocked);
  return {
    detector,
    mode,
    blackholeMs: summarize(blocked.map((r) => round(r.blackholeMs!, 3))),
    resolutionMs: summarize(blocked.map((r) => round(r.blackholeMs! - (r.lastAnsweredMs ?? 0), 3))),
    probeIntervalMs: summarize(results.map((r) => round(r.meanIntervalMs, 4))),
    detectMs: summarize(samples.detect),
    respondMs: summarize(samples.respond),
    firstAfterStartMs: firstAfterStart === null ? null : round(firstAfterStart.median, 3),
    firstAfterStart,
    starts,
    handshakeMs: summarize(samples.handshakes),
    blockedBeforeFirstProbe: blocked.filter((r) => r.answeredProbes === 0).length,
    repetitions,
    neverBlocked: results.length - blocked.length,
    firstNeverBlocked: firsts.length - firstsBlocked.length,
  };
}

export function triggerRequest(mode: TriggerMode, source: string, target: string): RawTriggerRequest {
  const kind = mode === 'tcp' ? 'tcp' : mode === 'udp' ? 'udp' : 'syn';
  const port = mode === 'udp' ? TRIGGER_UDP_PORT : mode === 'atcp' ? ADVANCED_TRIGGER_PORT : TRIGGER_TCP_PORT;
  return { kind, source, target, port, servicePort: SERVICE_PORT, intervalUs: PROBE_INTERVAL_US, giveUpMs: 2000 };
}

async function measureMode(bench: BenchLab, configs: BenchConfigPaths, detector: Detector, mode: TriggerMode, repetitions: number, starts: number): Promise<TriggerRow> {
  const results: RawTriggerResult[] = [];
  const firsts: RawTriggerResult[] = [];
  const handshakes: number[] = [];
  const detect: number[] = [];
  const respond: number[] = [];
  for (let start = 0; start < starts; start++) {
    // The repetitions spread over the starts, the remainder on the first ones.
    const count = Math.floor(repetitions / starts) + (start < repetitions % starts ? 1 : 0);
    const running = await startDetector(bench, configs, detector, [mode]);
    try {
      await sleep(SETTLE_AFTER_START_MS); // let start-up work settle
      const [warmUp, ...sources] = await bench.freshSources(count + 1);
      firsts.push(await rawTrigger(bench, triggerRequest(mode, warmUp!.v4, bench.target.v4)));
      for (const source of sources) {
        const result = await rawTrigger(bench, triggerRequest(mode, source.v4, bench.target.v4));
        results.push(result);
        if (result.connectedMs !== null && result.connectedMs !== undefined) handshakes.push(round(result.connectedMs, 3));
        const lines = running.ours?.log.lines.filter((l) => l.text.includes(`${source.v4}/`) || l.text.includes(`Host ${source.v4} `)) ?? [];
        const attack = lines.find((l) => / from host: /.test(l.text));
        const blocked = lines.find((l) => /has been blocked/.test(l.text));
        if (attack !== undefined) detect.push(round(performance.timeOrigin + attack.at - result.triggerWallMs, 3));
        if (attack !== undefined && blocked !== undefined) respond.push(round(blocked.at - attack.at, 3));
      }
    } finally {
      await running.stop();
    }
  }
  return triggerRow(detector, mode, starts, repetitions, { firsts, results, handshakes, detect, respond });
}

export async function triggerToBlackhole(bench: BenchLab, configs: BenchConfigPaths, repetitions: number, starts = 1, modes: readonly TriggerMode[] = TRIGGER_MODES): Promise<TriggerRow[]> {
  const rows: TriggerRow[] = [];
  // The peer first: its tripwires bind without SO_REUSEADDR, so TIME_WAIT sockets left on
  // port 31337 by our -tcp runs would keep it from binding.
  for (const detector of ['peer', 'ours'] as const) {
    for (const mode of modes) rows.push(await measureMode(bench, configs, detector, mode, repetitions, Math.max(1, Math.min(starts, repetitions))));
  }
  return rows;
}
