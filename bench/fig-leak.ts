// Figure 3: how many port states a fast full scan (nmap -sS -p- --min-rate 20000
// --max-retries 0) learns before the advanced-mode blackhole closes on it.

import type { BenchLab } from './bench-lab.js';
import type { BenchConfigPaths } from './configs.js';
import { startDetector, type Detector } from './detectors.js';
import { performance } from 'node:perf_hooks';
import { round, summarize, type Summary } from './stats.js';

export interface LeakRow {
  readonly detector: Detector;
  readonly learnedPorts: Summary | null;
  readonly samples: readonly number[];
  /** Ours: from nmap's start to the daemon's attack line and to its "blocked" line (wall clock). */
  readonly toAttackLineMs: Summary | null;
  readonly toBlockedLineMs: Summary | null;
}

/** Ports (TCP, UDP, SCTP; protocols for -sO) nmap reports as open, closed or unfiltered (anything but filtered) in its XML. Pure. */
export function learnedPortsFromXml(xml: string): number {
  let learned = 0;
  for (const match of xml.matchAll(/<extraports state="([^"]+)" count="(\d+)"/g)) {
    if (isLearned(match[1]!)) learned += Number(match[2]);
  }
  for (const match of xml.matchAll(/<port protocol="[a-z]+" portid="\d+"><state state="([^"]+)"/g)) {
    if (isLearned(match[1]!)) learned += 1;
  }
  return learned;
}

function isLearned(state: string): boolean {
  return state === 'open' || state === 'closed' || state === 'unfiltered';
}

export async function leak(bench: BenchLab, configs: BenchConfigPaths, repetitions: number): Promise<LeakRow[]> {
  const rows: LeakRow[] = [];
  for (const detector of ['peer', 'ours'] as const) {
    const running = await startDetector(bench, configs, detector, ['atcp']);
    const samples: number[] = [];
    const toAttack: number[] = [];
    const toBlocked: number[] = [];
    try {
      for (const source of await bench.freshSources(repetitions)) {
        const argv = ['nmap', '-sS', '-p-', '--min-rate', '20000', '--max-retries', '0', '-Pn', '-n', '-e', 'eth0', '-S', source.v4, '-oX', '-', bench.target.v4];
        const startedAt = performance.now(); // includes nmap's own start-up (a few ms)
        const result = await bench.lab.exec(bench.attacker, argv, { timeoutMs: 120_000 });
        samples.push(learnedPortsFromXml(result.stdout));
        const lines = running.ours?.log.lines ?? [];
        const attack = lines.find((l) => l.text.includes(` from host: ${source.v4}/`));
        const blocked = lines.find((l) => l.text.includes(`Host ${source.v4} has been blocked`));
        if (attack !== undefined) toAttack.push(round(attack.at - startedAt, 1));
        if (blocked !== undefined) toBlocked.push(round(blocked.at - startedAt, 1));
      }
    } finally {
      await running.stop();
    }
    rows.push({ detector, learnedPorts: summarize(samples), samples, toAttackLineMs: summarize(toAttack), toBlockedLineMs: summarize(toBlocked) });
  }
  return rows;
}
