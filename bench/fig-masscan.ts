// Figure 11: one source scanning at masscan's pace. A single spoofed source sends SYNs to the
// watched port 555 in -atcp at 50k and 100k packets/s for 10 s (paced by the raw sender; the
// achieved rate is reported). Measured: the helper's CPU seconds (with its children) over the
// flood, the log lines it wrote, whether the source ends up blocked and how many attack lines
// it got (one: every packet after the first cost user space no line), and the latency of the
// control socket (a JSON-RPC "status" request, ten a second) during the flood. The end of the
// flood is a barrier, not a wait: a sentinel source's trigger, whose attack line comes after
// every earlier packet was handled.
//
// Each rate runs with REPEAT_LOG="minute", the installed config's value (a blocked source's
// packets are dropped before capture: user space should hear nothing more of it), and the
// first rate once more with the key unset, which is 1.2's "every" (every probe of a blocked
// source is logged, as 1.2 does, so its cost grows with packets by design): both are shown,
// and only the installed one is held to the target.

import { join } from 'node:path';
import type { BenchLab } from './bench-lab.js';
import { controlRequest } from './control-request.js';
import { ADVANCED_TRIGGER_PORT, type BenchConfigPaths } from './configs.js';
import { SETTLE_AFTER_START_MS, startDetector } from './detectors.js';
import { cpuSeconds, processTree } from './proc-stats.js';
import { sleep } from './processes.js';
import { flood, loneTrigger } from './raw-packets.js';
import { round, summarize, type Summary } from './stats.js';

/** Pause between control requests during the flood. */
const CONTROL_INTERVAL_MS = 100;

export type RepeatLog = 'minute' | 'every';

export interface MasscanRow {
  /** The REPEAT_LOG the helper ran with ("every": the key unset, as in a 1.2 config). */
  readonly repeatLog: RepeatLog;
  readonly offeredPerSecond: number;
  readonly seconds: number;
  readonly sent: number;
  readonly achievedPerSecond: number;
  /** utime+stime of the helper and its children (nft, tcpdump) over the flood, s. */
  readonly helperCpuSeconds: number;
  readonly logLines: number;
  readonly attackLinesForSource: number;
  readonly sourceBlocked: boolean;
  readonly controlLatencyMs: Summary | null;
  readonly controlRequests: number;
  /** Control requests not answered within 5 s. */
  readonly controlTimeouts: number;
}

/** An attack line about `address` (`from host: NAME/ADDRESS to ...`). */
function attackLine(address: string): RegExp {
  return new RegExp(` from host: \\S*/${address.replace(/\./g, '\\.')} `);
}

async function treeCpu(pid: number): Promise<number> {
  let total = 0;
  for (const p of await processTree(pid)) total += (await cpuSeconds(p)) ?? 0;
  return total;
}

export async function masscan(bench: BenchLab, configs: BenchConfigPaths, plan: { rates: readonly number[]; seconds: number }): Promise<MasscanRow[]> {
  const rows: MasscanRow[] = [];
  const runs: { rate: number; repeatLog: RepeatLog }[] = plan.rates.map((rate) => ({ rate, repeatLog: 'minute' }));
  if (plan.rates.length > 0) runs.push({ rate: plan.rates[0]!, repeatLog: 'every' });
  for (const { rate, repeatLog } of runs) {
    const running = await startDetector(bench, configs, 'ours', ['atcp'], repeatLog === 'minute' ? configs.oursRepeatMinute : configs.ours);
    try {
      const ours = running.ours!;
      await sleep(SETTLE_AFTER_START_MS);
      const [scanner, sentinel] = await bench.freshSources(2);
      const cpuBefore = await treeCpu(ours.pid);
      const linesBefore = ours.log.lines.length;
      let flooding = true;
      const latencies: number[] = [];
      let timeouts = 0;
      const control = (async () => {
        while (flooding) {
          const answer = await controlRequest(join(configs.dir, 'helper.sock'), 'status');
          if (answer === null) timeouts++;
          else latencies.push(round(answer.ms, 3));
          // Paced (ten a second), so the requests themselves add little to the helper's CPU.
          await sleep(CONTROL_INTERVAL_MS);
        }
      })();
      const count = Math.round(rate * plan.seconds);
      const sent = await flood(bench, { target: bench.target.v4, port: ADVANCED_TRIGGER_PORT, rate, source: scanner!.v4, count }).finally(() => (flooding = false));
      await control;
      // Barrier: the sentinel's attack line comes after every packet before it was handled.
      const trigger = await loneTrigger(bench, { kind: 'syn', source: sentinel!.v4, target: bench.target.v4, port: ADVANCED_TRIGGER_PORT });
      await trigger.release();
      await ours.log.waitFor(attackLine(sentinel!.v4), 60_000);
      const cpuAfter = await treeCpu(ours.pid);
      const lines = ours.log.lines.slice(linesBefore).filter((l) => !l.text.includes(sentinel!.v4));
      const seconds = (sent.endedAt - sent.startedAt) / 1000;
      rows.push({
        repeatLog,
        offeredPerSecond: rate,
        seconds: round(seconds, 3),
        sent: sent.sent,
        achievedPerSecond: round(sent.sent / Math.max(0.001, seconds), 0),
        helperCpuSeconds: round(cpuAfter - cpuBefore, 2),
        logLines: lines.length,
        attackLinesForSource: lines.filter((l) => attackLine(scanner!.v4).test(l.text)).length,
        sourceBlocked: (await running.blocked()).has(scanner!.v4),
        controlLatencyMs: summarize(latencies),
        controlRequests: latencies.length + timeouts,
        controlTimeouts: timeouts,
      });
    } finally {
      await running.stop();
    }
  }
  return rows;
}
