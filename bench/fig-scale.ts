// Figure 4: distinct scanning sources detected and blocked per second. Spoofed SYNs, one per
// source from 198.18.128.0/17 (routed back through the attacker), to a watched port; the
// rate is sources blocked / (last block - first packet), the misses are the sent sources
// missing from the firewall afterwards. Both detectors get the same clock (the firewall polled
// every 100 ms; the last block is the end of the poll that first saw the final count) and
// the same offered load (the peer's, which its rule per host can take); ours runs once more
// at a load the peer cannot take, and results.md says so.

import type { BenchLab } from './bench-lab.js';
import { ADVANCED_TRIGGER_PORT, type BenchConfigPaths } from './configs.js';
import { SETTLE_AFTER_START_MS, startDetector, type Detector } from './detectors.js';
import { treeRssMb, rssMb } from './proc-stats.js';
import { sleep } from './processes.js';
import { flood } from './raw-packets.js';
import { round } from './stats.js';

export const SCALE_RANGE = '198.18.128.0/17';

export interface ScaleRow {
  readonly detector: Detector;
  readonly sources: number;
  readonly offeredPerSecond: number;
  readonly sendSeconds: number;
  readonly blocked: number;
  readonly missed: number;
  readonly blockedPerSecond: number;
  readonly secondsToLastBlock: number;
  /** Ours only: the daemon's RSS (and with its children) after the run. */
  readonly daemonRssMb: number | null;
  readonly daemonTreeRssMb: number | null;
  /** Ours only: first packet to the arrival of its last "has been blocked" line, s (absent in older results). */
  readonly secondsToLastBlockLine?: number | null;
}

/** Firewall polling interval, the same for both detectors: it bounds the resolution of "s to last block". */
export const SCALE_POLL_MS = 100;

export async function scale(bench: BenchLab, configs: BenchConfigPaths, plan: { ours: number; peer: number; rate: number; peerRate: number }): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const runs = [
    { detector: 'peer', count: plan.peer, rate: plan.peerRate },
    { detector: 'ours', count: plan.peer, rate: plan.peerRate },
    { detector: 'ours', count: plan.ours, rate: plan.rate },
  ] as const;
  for (const { detector, count, rate } of runs) {
    // 10,000 sources from 40 /24s: the per-prefix limit would hold ours to 64 a /24 a minute.
    const running = await startDetector(bench, { ...configs, ours: configs.oursNoPrefixLimit }, detector, ['atcp']);
    try {
      await sleep(SETTLE_AFTER_START_MS);
      const sent = await flood(bench, { target: bench.target.v4, port: ADVANCED_TRIGGER_PORT, rate, sourceRange: SCALE_RANGE, count, echoSources: true });
      // Watch the firewall until everything is in or nothing changed for 3 s.
      const now = () => performance.timeOrigin + performance.now();
      let last = -1;
      let lastChangeAt = now();
      let blockedSet = new Set<string>();
      for (;;) {
        blockedSet = await running.blocked();
        if (blockedSet.size !== last) {
          last = blockedSet.size;
          lastChangeAt = now();
        }
        if (blockedSet.size >= count || now() - lastChangeAt > 3000) break;
        await sleep(SCALE_POLL_MS);
      }
      // One clock for both: the poll that first saw the final count (the peer logs to syslog
      // only). Ours' own log line is kept beside it.
      const blockLines = running.ours?.log.lines.filter((l) => l.text.includes('has been blocked')) ?? [];
      const lastLineAt = blockLines.length > 0 ? performance.timeOrigin + blockLines[blockLines.length - 1]!.at : null;
      const lastBlockAt = lastChangeAt;
      const sources = sent.sources ?? [];
      const missed = sources.filter((s) => !blockedSet.has(s)).length;
      const blocked = sources.length - missed;
      const seconds = Math.max(0.001, (lastBlockAt - sent.startedAt) / 1000);
      rows.push({
        detector,
        sources: count,
        offeredPerSecond: rate,
        sendSeconds: round((sent.endedAt - sent.startedAt) / 1000, 3),
        blocked,
        missed,
        blockedPerSecond: round(blocked / seconds, 0),
        secondsToLastBlock: round(seconds, 3),
        daemonRssMb: running.ours === null ? null : await rssMb(running.ours.pid),
        daemonTreeRssMb: running.ours === null ? null : await treeRssMb(running.ours.pid),
        secondsToLastBlockLine: lastLineAt === null ? null : round((lastLineAt - sent.startedAt) / 1000, 3),
      });
    } finally {
      await running.stop();
    }
  }
  return rows;
}
