// The capture path: how many packets per second the tcpdump pipe the stealth and advanced
// modes read can carry without loss, and the latency it adds (kernel capture timestamp to
// the frame being decoded in Node). UDP datagrams to a watched port at increasing rates,
// from the attacker's own address (no detector runs, so nothing gets blocked).

import type { BenchLab } from './bench-lab.js';
import { benchScript } from './bench-lab.js';
import type { CaptureProbeResult } from './capture-probe.js';
import { LineRecorder } from './processes.js';
import { flood } from './raw-packets.js';
import { round, summarize, type Summary } from './stats.js';

export interface CaptureRow {
  readonly offeredPerSecond: number;
  readonly achievedPerSecond: number;
  readonly sent: number;
  readonly seenByNode: number;
  readonly receivedByFilter: number | null;
  readonly droppedByKernel: number | null;
  readonly lost: number;
  readonly latencyMs: Summary | null;
}

export async function capturePath(bench: BenchLab, plan: { rates: readonly number[]; seconds: number }): Promise<CaptureRow[]> {
  const rows: CaptureRow[] = [];
  for (const rate of plan.rates) {
    const probe = bench.lab.spawn(bench.target, [process.execPath, benchScript('capture-probe')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = new LineRecorder(probe);
    let sent;
    let resultLine;
    try {
      await lines.waitFor(/^ready$/, 10_000);
      const count = Math.round(rate * plan.seconds);
      sent = await flood(bench, { target: bench.target.v4, port: 7, rate, protocol: 'udp', source: bench.attacker.v4, count });
      probe.stdin?.write('stop\n');
      resultLine = await lines.waitFor(/^\{/, 20_000);
    } finally {
      if (probe.exitCode === null) probe.kill('SIGKILL');
    }
    const result = JSON.parse(resultLine.text) as CaptureProbeResult;
    const seconds = Math.max(0.001, (sent.endedAt - sent.startedAt) / 1000);
    rows.push({
      offeredPerSecond: rate,
      achievedPerSecond: round(sent.sent / seconds, 0),
      sent: sent.sent,
      seenByNode: result.frames,
      receivedByFilter: result.receivedByFilter,
      droppedByKernel: result.droppedByKernel,
      lost: Math.max(0, sent.sent - result.frames),
      latencyMs: summarize(result.latencySamplesMs.map((v) => round(v, 3))),
    });
  }
  return rows;
}
