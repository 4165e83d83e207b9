// Figure 10: a lone probe on a quiet network. One trigger from a fresh source (a UDP datagram
// to a tripwire for -udp, a TCP connect for -tcp, one bare SYN for -stcp and -atcp) and
// nothing else on the wire: no probe stream behind it, so a detector that handles an event
// only when the next one arrives shows it here. Measured: trigger to the block in the kernel,
// asked again and again in the target's namespace whether the source is blocked, from before
// the trigger leaves, through one long-lived `nft -i` for both detectors (kernel-asker.ts:
// a question is a netlink round trip, and puts nothing on the wire); the time is the answer
// of the first question that said yes, and the resolution is from the last question that said
// no (or the trigger, if later) to that answer: the block lies inside it. For ours also trigger
// to its attack line and to its "has been blocked" line (the peer logs to syslog only). A
// trigger not blocked within 10 s counts as never blocked.

import { performance } from 'node:perf_hooks';
import type { BenchLab } from './bench-lab.js';
import type { BenchConfigPaths } from './configs.js';
import { SETTLE_AFTER_START_MS, startDetector, type Detector } from './detectors.js';
import { triggerRequest, type TriggerMode } from './fig-trigger.js';
import { KernelAsker } from './kernel-asker.js';
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

/** Pause between questions, so the asking does not take a core from the detector. */
const ASK_PAUSE_MS = 1;

/** Asks until the source is blocked (or `give up`): wall-clock ms of the first yes, and of the start of the last no before it. */
async function untilBlocked(asker: KernelAsker, detector: Detector, source: string, stop: { giveUp: boolean }): Promise<{ yesAt: number; lastNoAskedAt: number | null } | null> {
  let lastNoAskedAt: number | null = null;
  while (!stop.giveUp) {
    const answer = await asker.ask(detector, source);
    if (answer.blocked) return { yesAt: performance.timeOrigin + answer.answeredAt, lastNoAskedAt };
    lastNoAskedAt = performance.timeOrigin + answer.askedAt;
    await sleep(ASK_PAUSE_MS);
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
  const asker = new KernelAsker(bench);
  try {
    await sleep(SETTLE_AFTER_START_MS);
    for (const source of await bench.freshSources(repetitions)) {
      const { kind, port } = triggerRequest(mode, source.v4, bench.target.v4);
      // The asking starts before the trigger leaves, so a block the kernel makes at once is
      // seen by the next question, not after the trigger program has reported back.
      const stop = { giveUp: false };
      const asking = untilBlocked(asker, detector, source.v4, stop);
      const sent = await loneTrigger(bench, { kind, source: source.v4, target: bench.target.v4, port });
      const giveUp = setTimeout(() => (stop.giveUp = true), GIVE_UP_MS);
      try {
        const block = await asking;
        clearTimeout(giveUp);
        if (block === null) neverBlocked++;
        else {
          toBlock.push(round(block.yesAt - sent.triggerWallMs, 3));
          resolution.push(round(block.yesAt - Math.max(block.lastNoAskedAt ?? sent.triggerWallMs, sent.triggerWallMs), 3));
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
    await asker.close();
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
