// Sends log lines to syslog the way the original did (tag "portsentry", with pid, facility
// daemon, level notice) and echoes them to stderr so a foreground or systemd-run helper shows
// them too. Node cannot write unix datagrams itself, so one long-lived logger(1) process
// takes our lines on stdin; logger also falls back to stream sockets where /dev/log is one.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Writable } from 'node:stream';

export interface SyslogOptions {
  readonly socketPath: string;
  readonly tag?: string;
  /** logger(1) priority, facility.level. */
  readonly priority?: string;
  /** Where the echo goes; defaults to process.stderr. */
  readonly echo?: (line: string) => void;
}

const RESTART_DELAY_MS = 1000;

export class SyslogReporter {
  private child: ChildProcessByStdio<Writable, null, null> | null = null;
  private closed = false;
  private lastFailure = 0;
  private readonly tag: string;
  private readonly echo: (line: string) => void;

  constructor(private readonly options: SyslogOptions) {
    this.tag = options.tag ?? 'portsentry';
    this.echo = options.echo ?? ((line) => process.stderr.write(`${line}\n`));
  }

  log(message: string): void {
    // One message per line: strip anything that could split or forge a syslog record. A
    // trailing space stays: 1.2's "manually exclude port: 113 " has one, and filters match it.
    const clean = message
      .replace(/[\r\n]+$/, '')
      .replace(/[\r\n]+/g, ' ')
      .replace(/[^\x20-\x7e]/g, '?');
    this.echo(`${this.tag}[${process.pid}]: ${clean}`);
    const child = this.ensureChild();
    child?.stdin.write(`${clean}\n`);
  }

  /** Flushes pending lines and stops logger(1). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = null;
    if (child === null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
      setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 2000).unref();
    });
  }

  private ensureChild(): ChildProcessByStdio<Writable, null, null> | null {
    if (this.child !== null || this.closed) return this.child;
    // Do not respawn in a tight loop when syslog is down; the stderr echo still has the line.
    if (Date.now() - this.lastFailure < RESTART_DELAY_MS) return null;
    const child = spawn(
      'logger',
      ['--id=' + String(process.pid), '-t', this.tag, '-p', this.options.priority ?? 'daemon.notice', '-u', this.options.socketPath],
      // Own process group, so a Ctrl-C does not end logger before the shutdown line is sent.
      { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
    );
    child.stdin.on('error', () => undefined);
    child.on('error', () => this.dropChild(child));
    child.on('exit', () => this.dropChild(child));
    this.child = child;
    return child;
  }

  private dropChild(child: ChildProcessByStdio<Writable, null, null>): void {
    if (this.child === child) {
      this.child = null;
      this.lastFailure = Date.now();
    }
  }
}
