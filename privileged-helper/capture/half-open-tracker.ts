// In the classic -tcp mode capture sees every SYN to a tripwire before the handshake ends.
// A connect scan (nmap -sT) must still be reported as a "Connect" like the original does,
// and a connect that the scanner resets before we can read its peer address (nmap does
// that) must still be attributed. So a SYN waits a short grace period: a completed
// connection from the same source claims it (reported as connect); a connection whose
// peer is unknown claims the newest pending SYN on its port; a SYN nobody claims is a
// half-open scan and is reported as such when the grace ends. The accept can also win the
// race against the captured SYN (tcpdump's pipe is slower than the kernel's accept queue),
// so a connection with an unknown peer waits for its SYN to show up.
//
// The verdict rests on facts, not on which path runs first. When a SYN's grace ends, the
// kernel is asked whether completed connections still wait in the tripwire's accept queue:
// if so, the event loop simply has not run their accept() yet (a loaded machine, a busy
// daemon), and the verdict waits for it. Only a SYN whose handshake the kernel has not
// completed is half-open. An unknown-peer connection is matched only to a SYN the kernel saw
// before the connection was accepted (capture timestamps). Pure: timers, the clock and the
// accept-queue reader are injected.

import type { Probe } from '../../shared/domain/types.js';

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const MAX_PENDING = 65_536;
const MAX_ORPHANS_PER_PORT = 1024;
/** How often a SYN verdict waiting on a non-empty accept queue looks again, and how many times. */
const QUEUE_RECHECK_MS = 20;
const MAX_QUEUE_RECHECKS = 100;
/** Capture and Date.now() are both the realtime clock; allow this much between them. */
const CLOCK_SLACK_MS = 5;

/** Kernel facts the verdict may consult; without them the tracker decides by its grace alone. */
export interface HandshakeFacts {
  /** Completed connections on this port that no accept() has taken yet. */
  acceptQueue(port: number): number;
  /**
   * How long an accepted connection whose peer is unknown waits for its SYN from capture
   * (tcpdump may lag far behind the accept under load); default: the grace.
   */
  readonly orphanGraceMs?: number;
  /** The clock capture timestamps are compared with (ms since the epoch). */
  now?(): number;
}

export class HalfOpenTracker {
  /** Pending SYNs by "source|port", oldest first. */
  private readonly pending = new Map<string, Pending>();

  /** Connections already reported whose SYN has not been captured yet ("source|port" -> timer). */
  private readonly connectedEarly = new Map<string, unknown>();
  /** Connections whose peer was unknown and whose SYN has not arrived yet, by port. */
  private readonly orphans = new Map<number, Orphan[]>();
  private readonly orphanGraceMs: number;

  constructor(
    private readonly graceMs: number,
    private readonly report: (probe: Probe) => void,
    /** An orphan connection's SYN never came (no capture, or it was not captured). */
    private readonly unattributed: (port: number) => void = () => undefined,
    private readonly timers: Timers = { set: (cb, ms) => setTimeout(cb, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout) },
    private readonly facts: HandshakeFacts = { acceptQueue: () => 0 },
  ) {
    this.orphanGraceMs = facts.orphanGraceMs ?? graceMs;
  }

  /**
   * A SYN to a -tcp tripwire, seen by capture. `wireAt` is when the kernel captured it, if
   * known: a connection accepted before that cannot be this SYN's.
   */
  synSeen(probe: Probe, wireAt?: number): void {
    const key = `${probe.source}|${probe.port}`;
    if (this.pending.has(key)) return;
    const early = this.connectedEarly.get(key);
    if (early !== undefined) {
      // The accept won the race and was reported as a connect: this SYN is the same touch.
      this.timers.clear(early);
      this.connectedEarly.delete(key);
      return;
    }
    const waiting = this.orphans.get(probe.port);
    // The oldest orphan this SYN can belong to: one accepted after the SYN reached the host.
    const index = waiting?.findIndex((orphan) => wireAt === undefined || wireAt <= orphan.acceptedAt + CLOCK_SLACK_MS) ?? -1;
    if (waiting !== undefined && index >= 0) {
      const [orphan] = waiting.splice(index, 1);
      this.timers.clear(orphan!.timer);
      if (waiting.length === 0) this.orphans.delete(probe.port);
      this.report({ ...probe, kind: 'connect' });
      return;
    }
    if (this.pending.size >= MAX_PENDING) {
      // Flooded: report the oldest now rather than drop it or grow without bound.
      const [oldestKey, oldest] = this.pending.entries().next().value!;
      this.timers.clear(oldest.timer);
      this.pending.delete(oldestKey);
      this.report(oldest.probe);
    }
    this.pending.set(key, { probe, timer: this.timers.set(() => this.graceEnded(key, probe, 0), this.graceMs), completed: false });
  }

  /**
   * Capture saw the peer's ACK that completes the handshake of a pending SYN (same source
   * and port): whatever order accept() and the timers run in, that touch is a connect.
   */
  ackSeen(source: string, port: number): void {
    const entry = this.pending.get(`${source}|${port}`);
    if (entry !== undefined) entry.completed = true;
  }

  /**
   * The grace of a pending SYN is over. Half-open only if no completed connection waits
   * unaccepted on its port; otherwise look again once the event loop has run accept().
   */
  private graceEnded(key: string, probe: Probe, rechecks: number): void {
    const entry = this.pending.get(key);
    if (entry === undefined || entry.probe !== probe) return;
    if (rechecks < MAX_QUEUE_RECHECKS && this.facts.acceptQueue(probe.port) > 0) {
      entry.timer = this.timers.set(() => this.graceEnded(key, probe, rechecks + 1), QUEUE_RECHECK_MS);
      return;
    }
    this.pending.delete(key);
    // A completed handshake whose accept() went to an unknown peer elsewhere is still a connect.
    this.report(entry.completed ? { ...probe, kind: 'connect' } : probe);
  }

  /** A connection from a known source completed: its SYN was not half-open. */
  connected(source: string, port: number): void {
    const key = `${source}|${port}`;
    const entry = this.pending.get(key);
    if (entry === undefined) {
      if (this.connectedEarly.has(key) || this.connectedEarly.size >= MAX_PENDING) return;
      const timer = this.timers.set(() => this.connectedEarly.delete(key), this.orphanGraceMs);
      this.connectedEarly.set(key, timer);
      return;
    }
    this.timers.clear(entry.timer);
    this.pending.delete(key);
  }

  /**
   * A connection on `port` whose peer is unknown (already reset): returns the likeliest
   * source, or null when its SYN has not been seen yet (it is then reported when it is).
   */
  claimUnknownPeer(port: number): string | null {
    let newest: [string, Pending] | null = null;
    // The newest SYN on the port whose handshake capture saw complete, else the newest at all.
    let newestCompleted: [string, Pending] | null = null;
    for (const entry of this.pending) {
      if (entry[1].probe.port !== port) continue;
      newest = entry;
      if (entry[1].completed) newestCompleted = entry;
    }
    if (newestCompleted !== null) newest = newestCompleted;
    if (newest === null) {
      const waiting = this.orphans.get(port) ?? [];
      if (waiting.length >= MAX_ORPHANS_PER_PORT) return null;
      const orphan: Orphan = { acceptedAt: this.now(), timer: undefined };
      orphan.timer = this.timers.set(() => {
        const list = this.orphans.get(port);
        const index = list?.indexOf(orphan) ?? -1;
        if (list === undefined || index < 0) return;
        list.splice(index, 1);
        if (list.length === 0) this.orphans.delete(port);
        this.unattributed(port);
      }, this.orphanGraceMs);
      waiting.push(orphan);
      this.orphans.set(port, waiting);
      return null;
    }
    this.timers.clear(newest[1].timer);
    this.pending.delete(newest[0]);
    return newest[1].probe.source;
  }

  clear(): void {
    for (const { timer } of this.pending.values()) this.timers.clear(timer);
    this.pending.clear();
    for (const orphans of this.orphans.values()) for (const orphan of orphans) this.timers.clear(orphan.timer);
    for (const timer of this.connectedEarly.values()) this.timers.clear(timer);
    this.connectedEarly.clear();
    this.orphans.clear();
  }

  private now(): number {
    return this.facts.now?.() ?? Date.now();
  }
}

interface Pending {
  readonly probe: Probe;
  timer: unknown;
  /** Capture saw the ACK completing its handshake. */
  completed: boolean;
}

interface Orphan {
  readonly acceptedAt: number;
  timer: unknown;
}
