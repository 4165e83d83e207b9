// The detection state engine: given a probe, decide whether to ignore it, count it, or
// respond. Pure code: the clock arrives inside each probe, the never-block policy is passed
// in, and memory is bounded (per-source hit counters are evicted least-recently-seen first).
//
// SCAN_TRIGGER keeps the original's meaning: the source is acted on at its Nth touch within
// the window (0 and 1 both mean "at the first touch").

import type { AddressFamily, Probe } from '../../shared/domain/types.js';
import type { IgnoreReason } from '../config/ignore-list.js';

export interface EngineOptions {
  readonly scanTrigger: number;
  readonly windowMs: number;
  readonly maxSources: number;
}

export interface NeverBlockPolicy {
  reasonToIgnore(address: string, family: AddressFamily): IgnoreReason | null;
}

export type Verdict =
  | { readonly kind: 'ignored'; readonly reason: IgnoreReason }
  | { readonly kind: 'already-blocked' }
  | { readonly kind: 'counted'; readonly hits: number; readonly needed: number }
  | { readonly kind: 'triggered'; readonly hits: number };

interface SourceState {
  hits: number;
  windowStart: number;
}

/**
 * A block is one number per address, not an object: with a million blocked sources the
 * difference is tens of megabytes. PENDING between the decision and the backend's
 * confirmation, FOREVER until unblocked, otherwise the epoch ms when it lapses.
 */
const PENDING = -1;
const FOREVER = 0;

export class DetectionEngine {
  private readonly sources = new Map<string, SourceState>();
  private readonly blocks = new Map<string, number>();
  private evictions = 0;

  constructor(
    private options: EngineOptions,
    private policy: NeverBlockPolicy,
  ) {}

  /** Applies a new config or ignore list without losing counts or blocks. */
  reconfigure(options: EngineOptions, policy: NeverBlockPolicy): void {
    this.options = options;
    this.policy = policy;
    this.trimSources();
  }

  assess(probe: Probe): Verdict {
    const reason = this.policy.reasonToIgnore(probe.source, probe.family);
    if (reason !== null) return { kind: 'ignored', reason };
    if (this.isBlocked(probe.source, probe.at)) return { kind: 'already-blocked' };

    const hits = this.countHit(probe.source, probe.at);
    const needed = Math.max(1, this.options.scanTrigger);
    if (hits < needed) return { kind: 'counted', hits, needed };

    // Mark at once, before any firewall call returns, so the rest of a fast scan is deduped.
    this.sources.delete(probe.source);
    this.blocks.set(probe.source, PENDING);
    return { kind: 'triggered', hits };
  }

  /** The response for a triggered source finished; the block holds until `until` (or forever). */
  confirmBlock(address: string, until: number | null): void {
    this.blocks.set(address, until ?? FOREVER);
  }

  /** The response failed: forget the pending block so the next probe can try again. */
  abandonBlock(address: string): void {
    if (this.blocks.get(address) === PENDING) this.blocks.delete(address);
  }

  /** A block added by hand (or restored from the store at start). */
  recordBlock(address: string, until: number | null): void {
    this.blocks.set(address, until ?? FOREVER);
  }

  /** Lifts a block; true if there was one. */
  forgetBlock(address: string): boolean {
    this.sources.delete(address);
    return this.blocks.delete(address);
  }

  isBlocked(address: string, now: number): boolean {
    const until = this.blocks.get(address);
    if (until === undefined) return false;
    return until === PENDING || until === FOREVER || until > now;
  }

  /** Removes and returns the blocks whose time is up. */
  takeExpiredBlocks(now: number): string[] {
    const expired: string[] = [];
    for (const [address, until] of this.blocks) {
      if (until > FOREVER && until <= now) expired.push(address);
    }
    for (const address of expired) this.blocks.delete(address);
    return expired;
  }

  blockedAddresses(): string[] {
    return [...this.blocks.keys()];
  }

  stats(): { trackedSources: number; blocked: number; evictions: number } {
    return { trackedSources: this.sources.size, blocked: this.blocks.size, evictions: this.evictions };
  }

  private countHit(address: string, now: number): number {
    const existing = this.sources.get(address);
    // Delete and re-insert: the Map's order is then least-recently-seen first, for eviction.
    if (existing !== undefined) this.sources.delete(address);
    const state =
      existing === undefined || now - existing.windowStart >= this.options.windowMs
        ? { hits: 0, windowStart: now }
        : existing;
    state.hits += 1;
    this.sources.set(address, state);
    this.trimSources();
    return state.hits;
  }

  private trimSources(): void {
    while (this.sources.size > this.options.maxSources) {
      const oldest = this.sources.keys().next();
      if (oldest.done === true) break;
      this.sources.delete(oldest.value);
      this.evictions += 1;
    }
  }
}
