// In the classic -tcp mode capture sees every SYN to a tripwire before the handshake ends.
// A connect scan (nmap -sT) must still be reported as a "Connect" like the original does,
// and a connect that the scanner resets before we can read its peer address (nmap does
// that) must still be attributed. So a SYN waits a short grace period: a completed
// connection from the same source claims it (reported as connect); a connection whose
// peer is unknown claims the newest pending SYN on its port; a SYN nobody claims is a
// half-open scan and is reported as such when the grace ends. The accept can also win the
// race against the captured SYN (tcpdump's pipe is slower than the kernel's accept queue),
// so a connection with an unknown peer waits the same grace for its SYN to show up.
// Pure: timers are injected.

import type { Probe } from '../../shared/domain/types.js';

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const MAX_PENDING = 65_536;
const MAX_ORPHANS_PER_PORT = 1024;

export class HalfOpenTracker {
  /** Pending SYNs by "source|port", oldest first. */
  private readonly pending = new Map<string, { probe: Probe; timer: unknown }>();

  /** Connections already reported whose SYN has not been captured yet ("source|port" -> timer). */
  private readonly connectedEarly = new Map<string, unknown>();
  /** Connections whose peer was unknown and whose SYN has not arrived yet, by port. */
  private readonly orphans = new Map<number, unknown[]>();

  constructor(
    private readonly graceMs: number,
    private readonly report: (probe: Probe) => void,
    /** An orphan connection's SYN never came (no capture, or it was not captured). */
    private readonly unattributed: (port: number) => void = () => undefined,
    private readonly timers: Timers = { set: (cb, ms) => setTimeout(cb, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout) },
  ) {}

  synSeen(probe: Probe): void {
    const key = `${probe.source}|${probe.port}`;
    if (this.pending.has(key)) return;
    const early = this.connectedEarly.get(key);
    if (early !== undefined) {
      // The accept won the race and was reported as a connect: this SYN is the same touch.
      this.timers.clear(early);
      this.connectedEarly.delete(key);
      return;
    }
    const orphan = this.orphans.get(probe.port)?.shift();
    if (orphan !== undefined) {
      this.timers.clear(orphan);
      if (this.orphans.get(probe.port)?.length === 0) this.orphans.delete(probe.port);
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
    const timer = this.timers.set(() => {
      this.pending.delete(key);
      this.report(probe);
    }, this.graceMs);
    this.pending.set(key, { probe, timer });
  }

  /** A connection from a known source completed: its SYN was not half-open. */
  connected(source: string, port: number): void {
    const key = `${source}|${port}`;
    const entry = this.pending.get(key);
    if (entry === undefined) {
      if (this.connectedEarly.has(key) || this.connectedEarly.size >= MAX_PENDING) return;
      const timer = this.timers.set(() => this.connectedEarly.delete(key), this.graceMs);
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
    let newest: [string, { probe: Probe; timer: unknown }] | null = null;
    for (const entry of this.pending) if (entry[1].probe.port === port) newest = entry;
    if (newest === null) {
      const waiting = this.orphans.get(port) ?? [];
      if (waiting.length >= MAX_ORPHANS_PER_PORT) return null;
      const timer = this.timers.set(() => {
        const list = this.orphans.get(port);
        const index = list?.indexOf(timer) ?? -1;
        if (list === undefined || index < 0) return;
        list.splice(index, 1);
        if (list.length === 0) this.orphans.delete(port);
        this.unattributed(port);
      }, this.graceMs);
      waiting.push(timer);
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
    for (const timers of this.orphans.values()) for (const timer of timers) this.timers.clear(timer);
    for (const timer of this.connectedEarly.values()) this.timers.clear(timer);
    this.connectedEarly.clear();
    this.orphans.clear();
  }
}
