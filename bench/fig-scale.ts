// Figure 4: distinct scanning sources detected and blocked per second. Spoofed SYNs, one per
// source from 198.18.128.0/17 (routed back through the attacker), to a watched port; the
// rate is sources blocked / (last block - first packet), the misses are the sent sources
// missing from the firewall afterwards.

import type { BenchLab } from './bench-lab.js';
import { ADVANCED_TRIGGER_PORT, type BenchConfigPaths } from './configs.js';
import { startDetector, type Detector } from './detectors.js';
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
}

export async function scale(bench: BenchLab, configs: BenchConfigPaths, plan: { ours: number; peer: number; rate: number; peerRate: number }): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const detector of ['ours', 'peer'] as const) {
    const count = detector === 'ours' ? plan.ours : plan.peer;
    const rate = detector === 'ours' ? plan.rate : plan.peerRate;
    // 10,000 sources from 40 /24s: the per-prefix limit would hold ours to 64 a /24 a minute.
    const running = await startDetector(bench, { ...configs, ours: configs.oursNoPrefixLimit }, detector, ['atcp']);
    try {
      await sleep(300);
      const sent = await flood(bench, { target: bench.target.v4, port: ADVANCED_TRIGGER_PORT, rate, sourceRange: SCALE_RANGE, count, echoSources: true });
      // Watch the firewall until everything is in or nothing changed for 3 s.
      let last = -1;
      let lastChangeAt = Date.now();
      let blockedSet = new Set<string>();
      for (;;) {
        blockedSet = await running.blocked();
        if (blockedSet.size !== last) {
          last = blockedSet.size;
          lastChangeAt = Date.now();
        }
        if (blockedSet.size >= count || Date.now() - lastChangeAt > 3000) break;
        await sleep(detector === 'ours' ? 100 : 250);
      }
      // Ours: the moment of the last block is the arrival of its log line; the peer logs to
      // syslog only, so its time is when the polled rule count stopped growing.
      const blockLines = running.ours?.log.lines.filter((l) => l.text.includes('has been blocked')) ?? [];
      const lastBlockAt = running.ours !== null && blockLines.length > 0 ? performance.timeOrigin + blockLines[blockLines.length - 1]!.at : lastChangeAt;
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
      });
    } finally {
      await running.stop();
    }
  }
  return rows;
}
