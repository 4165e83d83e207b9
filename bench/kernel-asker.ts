// Asks the kernel, in the target's namespace, whether one address is blocked, fast and the
// same way for both detectors: one long-lived `nft -i` takes the questions on stdin, so a
// question costs a netlink round trip (well under a millisecond when the machine is quiet),
// not a process spawn (tens of milliseconds, which is what a lone probe's block time would
// otherwise measure). Ours is asked with `get element` on its blocked set; the peer's
// iptables rule (iptables-nft writes rules into nftables' `ip filter` table) with
// `list chain ip filter INPUT`. Each question is followed by a sentinel nft answers from its
// own tables (`describe ip length`, as the daemon's backend does): its line ends the answer.

import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { BenchLab } from './bench-lab.js';
import { OUR_TABLE } from './configs.js';
import type { Detector } from './detectors.js';

const SENTINEL = 'describe ip length';
const SENTINEL_ANSWER = 'payload expression';

/** One answer: whether the address was blocked, and when the question was written and answered (performance.now()). */
export interface KernelAnswer {
  readonly blocked: boolean;
  readonly askedAt: number;
  readonly answeredAt: number;
}

export class KernelAsker {
  private readonly child: ChildProcess;
  private answerLines: string[] = [];
  private pending: ((lines: string[]) => void) | null = null;

  constructor(bench: BenchLab) {
    this.child = bench.lab.spawn(bench.target, ['nft', '-i'], { stdio: ['pipe', 'pipe', 'ignore'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith(SENTINEL_ANSWER)) {
        this.answerLines.push(line);
        return;
      }
      const lines = this.answerLines;
      this.answerLines = [];
      const resolve = this.pending;
      this.pending = null;
      resolve?.(lines);
    });
    this.child.once('exit', () => this.pending?.([]));
  }

  /** Is `source` (IPv4) in the detector's firewall? One question at a time. */
  async ask(detector: Detector, source: string): Promise<KernelAnswer> {
    if (this.pending !== null) throw new Error('KernelAsker: one question at a time');
    const question = detector === 'ours' ? `get element inet ${OUR_TABLE} blocked4 { ${source} }` : 'list chain ip filter INPUT';
    const askedAt = performance.now();
    const lines = await new Promise<string[]>((resolve) => {
      this.pending = resolve;
      this.child.stdin!.write(`${question}\n${SENTINEL}\n`);
    });
    const answeredAt = performance.now();
    // Ours: the element line names the address; the peer: its rule `ip saddr X ... drop`.
    const pattern = detector === 'ours' ? new RegExp(`[{ ,]${source.replace(/\./g, '\\.')}[ ,}]`) : new RegExp(`ip saddr ${source.replace(/\./g, '\\.')} .*drop`);
    return { blocked: lines.some((line) => pattern.test(line)), askedAt, answeredAt };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}
