// Pure bookkeeping for sending our blocks to the fleet: the bounded queue of alerts waiting
// for the LAPI, the retry delay after failures, and the recent ports of each source (so an
// alert names the ports of the scan, not only the one that triggered the block). No I/O.

import type { BlockToShare } from './lapi-messages.js';

/** Alerts kept while the LAPI is down; beyond this the oldest go (and are counted). */
export const MAX_QUEUED_ALERTS = 10_000;
/** Alerts per POST /v1/alerts. */
export const MAX_ALERTS_PER_PUSH = 100;
const MAX_PORTS_PER_SOURCE = 32;
const MAX_SOURCES_REMEMBERED = 4096;

export class ShareQueue {
  private items: BlockToShare[] = [];
  private droppedCount = 0;

  constructor(private readonly capacity = MAX_QUEUED_ALERTS) {}

  add(block: BlockToShare): void {
    this.items.push(block);
    if (this.items.length > this.capacity) {
      this.items.splice(0, this.items.length - this.capacity);
      this.droppedCount += 1;
    }
  }

  /** The next batch to send, left in the queue until done() confirms it arrived. */
  peek(max = MAX_ALERTS_PER_PUSH): BlockToShare[] {
    return this.items.slice(0, max);
  }

  /** The first `count` items arrived. Items dropped meanwhile shift the front; only sent ones go. */
  done(sent: readonly BlockToShare[]): void {
    const gone = new Set(sent);
    this.items = this.items.filter((item) => !gone.has(item));
  }

  get length(): number {
    return this.items.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }
}

/** Retry delay after `failures` failed attempts in a row: 1 s doubling to 60 s, with +-20 % jitter so a fleet does not retry in step. */
export function retryDelayMs(failures: number, random: () => number): number {
  const base = Math.min(60_000, 1000 * 2 ** Math.max(0, Math.min(failures - 1, 16)));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The last ports each source touched, bounded in sources and ports. */
export class RecentPorts {
  private readonly bySource = new Map<string, number[]>();

  note(source: string, port: number): void {
    const ports = this.bySource.get(source) ?? [];
    this.bySource.delete(source);
    if (!ports.includes(port)) {
      ports.push(port);
      if (ports.length > MAX_PORTS_PER_SOURCE) ports.shift();
    }
    this.bySource.set(source, ports);
    if (this.bySource.size > MAX_SOURCES_REMEMBERED) {
      const oldest = this.bySource.keys().next();
      if (oldest.done !== true) this.bySource.delete(oldest.value);
    }
  }

  /** The ports seen from source (sorted), forgetting them. */
  take(source: string): number[] {
    const ports = this.bySource.get(source) ?? [];
    this.bySource.delete(source);
    return [...ports].sort((a, b) => a - b);
  }
}
