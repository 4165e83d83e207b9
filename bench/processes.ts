// Small process helpers for the benchmark: run argv with stdin text, read a child's output as
// timestamped lines, wait for a line. No shell anywhere: argv only.

import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

/** Runs argv to completion, feeding `input` on stdin; rejects on a non-zero exit unless allowFailure. */
export function runArgv(argv: readonly string[], options: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error('empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code };
      if (code !== 0 && options.allowFailure !== true) reject(new Error(`${argv.slice(0, 8).join(' ')} failed (${String(code)}): ${result.stderr.trim().slice(0, 400)}`));
      else resolve(result);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export interface TimedLine {
  /** performance.now() when the line arrived. */
  readonly at: number;
  readonly text: string;
}

/** Collects a child's stdout and stderr as lines stamped with performance.now(). */
export class LineRecorder {
  readonly lines: TimedLine[] = [];
  private waiters: { test: (l: string) => boolean; resolve: (l: TimedLine) => void }[] = [];

  constructor(child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = '';
      stream?.on('data', (chunk: Buffer) => {
        const at = performance.now();
        buffer += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = { at, text: buffer.slice(0, newline) };
          buffer = buffer.slice(newline + 1);
          this.lines.push(line);
          for (const waiter of [...this.waiters]) {
            if (waiter.test(line.text)) {
              this.waiters.splice(this.waiters.indexOf(waiter), 1);
              waiter.resolve(line);
            }
          }
        }
      });
    }
  }

  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<TimedLine> {
    const seen = this.lines.find((l) => pattern.test(l.text));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        test: (l: string) => pattern.test(l),
        resolve: (l: TimedLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `no line matching ${String(pattern)} within ${timeoutMs} ms; last lines:\n${this.lines
              .slice(-15)
              .map((l) => l.text)
              .join('\n')}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l.text)).length;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every intervalMs until it returns true; false on timeout. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
