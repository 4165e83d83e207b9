// Starts the real portsentryd (compiled, under the Node that runs the tests) inside a lab
// namespace and lets a test wait for lines on its stderr, where it echoes every log line.

import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost } from './netns-lab.js';

export const DAEMON_SCRIPT = fileURLToPath(new URL('../../privileged-helper/bin/portsentryd.js', import.meta.url));
/** The Node flags the daemon runs with everywhere (setup script, systemd unit, package wrapper). */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2'] as const;

export class DaemonProcess {
  readonly lines: string[] = [];
  private readonly waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(readonly child: ChildProcess) {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.lines.push(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(line)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first line (already seen or future) matching; rejects after timeoutMs (a safety net, generous for a loaded machine: nothing is judged by how long it took). */
  waitFor(pattern: RegExp | string, timeoutMs = 60_000): Promise<string> {
    const test = (line: string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no line matching ${String(pattern)} within ${timeoutMs} ms; output so far:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      const waiter = {
        test,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: string | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

const PRIVATE_MOUNTS = fileURLToPath(new URL('./private-mounts.js', import.meta.url));

/** The argv that runs `command` with directories replaced for it alone (see private-mounts.ts); as is without mounts. */
export function withPrivateMounts(mounts: readonly string[] | undefined, command: readonly string[]): string[] {
  return mounts === undefined ? [...command] : [process.execPath, PRIVATE_MOUNTS, ...mounts, '--', ...command];
}

export interface DaemonOptions {
  /** private-mounts.ts options (--bind SOURCE TARGET, --tmpfs TARGET): the daemon's own view of those paths. */
  readonly privateMounts?: readonly string[];
  /** Environment variables beyond the test's own (NODE_EXTRA_CA_CERTS, as a systemd drop-in sets it). */
  readonly env?: Readonly<Record<string, string>>;
}

export function startDaemon(lab: Lab, host: LabHost, args: readonly string[], options: DaemonOptions = {}): DaemonProcess {
  const argv = withPrivateMounts(options.privateMounts, [process.execPath, ...DAEMON_NODE_FLAGS, DAEMON_SCRIPT, ...args]);
  const child = lab.spawn(host, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }) });
  return new DaemonProcess(child);
}
