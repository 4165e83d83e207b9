// Figure 10: a lone probe on a quiet network. One trigger from a fresh source (a UDP datagram
// to a tripwire for -udp, a TCP connect for -tcp, one bare SYN for -stcp and -atcp) and
// nothing else on the wire: no probe stream behind it, so a detector that handles an event
// only when the next one arrives shows it here. Measured: trigger to the block in the kernel
// (asked again and again in the target's namespace whether the source is blocked, one process
// per question for both detectors, which puts nothing on the wire; the time is the end of the
// first question answered yes, and the resolution is that question's length), and for ours trigger to its attack line and to its "has been
// blocked" line (the peer logs to syslog only). A trigger not blocked within 10 s counts as
// never blocked.

import { performance } from 'node:perf_hooks';
import type { BenchLab } from './bench-lab.js';
import { OUR_TABLE, type BenchConfigPaths } from './configs.js';
import { SETTLE_AFTER_START_MS, startDetector, type Detector } from './detectors.js';
import { triggerRequest, type TriggerMode } from './fig-trigger.js';
import { sleep } from './processes.js';
import { loneTrigger } from './raw-packets.js';
import { round, summarize, type Summary } from './stats.js';

export interface LoneProbeRow {
  readonly detector: Detector;
  readonly mode: TriggerMode;
  readonly toBlockMs: Summary | null;
  /** Length of the firewall read that first held the source (the resolution of toBlockMs). */
  readonly resolutionMs: Summary | null;
  /** Ours: trigger to its attack line, and to its "has been blocked" line (null for the peer). */
  readonly toLogLineMs: Summary | null;
  readonly toBlockedLineMs: Summary | null;
  readonly repetitions: number;
  readonly neverBlocked: number;
}

/** How long one source may take to appear in the firewall before it counts as never blocked. */
const GIVE_UP_MS = 10_000;

/**
 * One question to the kernel of the same cost for both: is this one address blocked? (One
 * process each, `nft get element` on our set, `iptables -C` on the peer's rule.)
 */
function blockedQuery(detector: Detector, source: string): string[] {
  return detector === 'ours' ? ['nft', 'get', 'element', 'inet', OUR_TABLE, 'blocked4', `{ ${source} }`] : ['iptables', '-C', 'INPUT', '-s', source, '-j', 'DROP'];
}

async function untilBlocked(bench: BenchLab, detector: Detector, source: string): Promise<{ at: number; readMs: number } | null> {
  const deadline = performance.now() + GIVE_UP_MS;
  while (performance.now() < deadline) {
    const started = performance.now();
    const { code } = await bench.lab.exec(bench.target, blockedQuery(detector, source), { allowFailure: true });
    const at = performance.now();
    if (code === 0) return { at: performance.timeOrigin + at, readMs: at - started };
  }
  return null;
}

async function measure(bench: BenchLab, configs: BenchConfigPaths, detector: Detector, mode: TriggerMode, repetitions: number): Promise<LoneProbeRow> {
  const toBlock: number[] = [];
  const resolution: number[] = [];
  const toLog: number[] = [];
  const toBlockedLine: number[] = [];
  let neverBlocked = 0;
  const running = await startDetector(bench, configs, detector, [mode]);
  try {
    await sleep(SETTLE_AFTER_START_MS);
    for (const source of await bench.freshSources(repetitions)) {
      const { kind, port } = triggerRequest(mode, source.v4, bench.target.v4);
      const sent = await loneTrigger(bench, { kind, source: source.v4, target: bench.target.v4, port });
      try {
        const block = await untilBlocked(bench, detector, source.v4);
        if (block === null) neverBlocked++;
        else {
          toBlock.push(round(block.at - sent.triggerWallMs, 3));
          resolution.push(round(block.readMs, 3));
        }
        if (running.ours !== null) {
          const mentions = (pattern: RegExp) => (text: string) => (text.includes(`${source.v4}/`) || text.includes(`Host ${source.v4} `)) && pattern.test(text);
          const attack = running.ours.log.lines.find((l) => mentions(/ from host: /)(l.text));
          const blockedLine = running.ours.log.lines.find((l) => mentions(/has been blocked/)(l.text));
          if (attack !== undefined) toLog.push(round(performance.timeOrigin + attack.at - sent.triggerWallMs, 3));
          if (blockedLine !== undefined) toBlockedLine.push(round(performance.timeOrigin + blockedLine.at - sent.triggerWallMs, 3));
        }
      } finally {
        await sent.release();
      }
    }
  } finally {
    await running.stop();
  }
  return {
    detector,
    mode,
    toBlockMs: summarize(toBlock),
    resolutionMs: summarize(resolution),
    toLogLineMs: detector === 'ours' ? summarize(toLog) : null,
    toBlockedLineMs: detector === 'ours' ? summarize(toBlockedLine) : null,
    repetitions,
    neverBlocked,
  };
}

export async function loneProbe(bench: BenchLab, configs: BenchConfigPaths, repetitions: number, modes: readonly TriggerMode[]): Promise<LoneProbeRow[]> {
  const rows: LoneProbeRow[] = [];
  // The peer first, as in figure 1 (its tripwires bind without SO_REUSEADDR).
  for (const detector of ['peer', 'ours'] as const) {
    for (const mode of modes) rows.push(await measure(bench, configs, detector, mode, repetitions));
  }
  return rows;
}
