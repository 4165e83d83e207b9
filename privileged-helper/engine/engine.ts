// The detection state engine: given a probe, decide whether to ignore it, count it, or
// respond. Pure code: the clock arrives inside each probe, the never-block policy is passed
// in, and memory is bounded (per-source hit counters are evicted least-recently-seen first).
//
// SCAN_TRIGGER keeps the original's meaning: the source is acted on at its Nth touch within
// the window (0 and 1 both mean "at the first touch"). New blocks from one IPv4 /24 or IPv6
// /64 are rate-limited (BLOCK_RATE_PER_PREFIX a minute): an attacker who can spoof or own a
// whole prefix cannot fill the block sets from it.
//
// Before SCAN_TRIGGER counts, the score (scan-score.ts) weighs the distinct ports a source
// touched within the window: below the threshold (an on-link neighbour's lone touch of a LAN
// service port), the probe is reported, not counted towards a block.

import type { AddressFamily, Probe } from '../../shared/domain/types.js';
import type { NeverBlockReason } from '../never-block/never-block.js';
import { BlockLedger } from '../firewall/block-ledger.js';
import { weigh, type ScoreOptions } from './scan-score.js';

export interface EngineOptions {
  readonly scanTrigger: number;
  readonly windowMs: number;
  readonly maxSources: number;
  /** New blocks a minute from one IPv4 /24 or IPv6 /64; 0 = no limit. */
  readonly blockRatePerPrefix?: number;
  /** How probes are weighed (scan-score.ts); absent: every probe counts, as in 1.2. */
  readonly score?: ScoreOptions;
}

/** What the daemon knows about a probe's source beyond its address. */
export interface ProbeContext {
  /** The source is inside one of this host's interface networks (a neighbour on the link). */
  readonly onLink: boolean;
}

export interface NeverBlockPolicy {
  reasonToIgnore(address: string, family: AddressFamily): NeverBlockReason | null;
}

export type Verdict =
  | { readonly kind: 'ignored'; readonly reason: NeverBlockReason }
  | { readonly kind: 'already-blocked' }
  /** Reported within the trigger window without a block (report only): not news, and not "blocked". */
  | { readonly kind: 'already-reported' }
  | { readonly kind: 'counted'; readonly hits: number; readonly needed: number }
  /**
   * Below the score threshold (an on-link neighbour's lone touch of a LAN service): reported,
   * never blocked. `first` is true when this touch added to the score (not a repeat).
   */
  | { readonly kind: 'below-threshold'; readonly score: number; readonly threshold: number; readonly service: string | null; readonly first: boolean }
  | { readonly kind: 'triggered'; readonly hits: number }
  /**
   * Would trigger, but its prefix used up its new blocks for now. `firstHit` is true once
   * per episode (the first refusal after the prefix last had room), for a single log line.
   */
  | { readonly kind: 'rate-limited'; readonly prefix: string; readonly limit: number; readonly firstHit: boolean };

/** One prefix's allowance of new blocks: a token bucket refilled at `limit` a minute. */
interface PrefixBucket {
  tokens: number;
  last: number;
  limited: boolean;
}

const MINUTE_MS = 60_000;

interface SourceState {
  hits: number;
  windowStart: number;
  /** Sum of the weights of `weighed`. */
  score: number;
  /** What added to the score within the window (services, protocol/port). */
  weighed: Set<string> | null;
}

export class DetectionEngine {
  private readonly sources = new Map<string, SourceState>();
  /** Sources reported without a block (BLOCK_TCP/BLOCK_UDP 0 or 2), per protocol ("udp 198.18.0.5"): when. */
  private readonly reported = new Map<string, number>();
  private readonly prefixes = new Map<string, PrefixBucket>();
  private evictions = 0;
  private rateLimited = 0;

  constructor(
    private options: EngineOptions,
    private policy: NeverBlockPolicy,
    /** What the firewall holds, shared with the firewall owner (see firewall/block-ledger.ts). */
    readonly ledger: BlockLedger = new BlockLedger(),
  ) {}

  /** Applies a new config or ignore list without losing counts or blocks. */
  reconfigure(options: EngineOptions, policy: NeverBlockPolicy): void {
    this.options = options;
    this.policy = policy;
    this.trimSources();
  }

  assess(probe: Probe, context: ProbeContext = { onLink: false }): Verdict {
    const reason = this.policy.reasonToIgnore(probe.source, probe.family);
    if (reason !== null) return { kind: 'ignored', reason };
    if (this.isBlocked(probe.source, probe.at)) return { kind: 'already-blocked' };
    if (this.wasReported(reportKey(probe.source, probe.protocol), probe.at)) return { kind: 'already-reported' };

    const state = this.countHit(probe.source, probe.at);
    const hits = state.hits;
    const options = this.options.score;
    if (options !== undefined) {
      const weighed = weigh(probe, context.onLink, options);
      const first = weighed.weight > 0 && !(state.weighed?.has(weighed.key) ?? false);
      if (first) {
        state.weighed ??= new Set();
        state.weighed.add(weighed.key);
        state.score += weighed.weight;
      }
      if (state.score < options.threshold) return { kind: 'below-threshold', score: state.score, threshold: options.threshold, service: weighed.service, first };
    }
    const needed = Math.max(1, this.options.scanTrigger);
    if (hits < needed) return { kind: 'counted', hits, needed };
    // The counter is kept: once the prefix has room again, the next touch triggers.
    const limited = this.takePrefixAllowance(probe.source, probe.family, probe.at);
    if (limited !== null) return limited;

    // Mark at once, before any firewall call returns, so the rest of a fast scan is deduped.
    this.sources.delete(probe.source);
    this.ledger.markPending(probe.source);
    return { kind: 'triggered', hits };
  }

  /** The response for a triggered source finished; the block holds until `until` (or forever). */
  confirmBlock(address: string, until: number | null): void {
    this.ledger.confirm(address, until);
  }

  /**
   * The response for a triggered source was made without a block (report only, or only the
   * admin's command): its later probes within the trigger window are "reported already", not
   * "already blocked", and its prefix gets back the allowance it took (no block was made).
   */
  confirmReported(address: string, protocol: Probe['protocol'], now: number): void {
    this.abandonBlock(address);
    const key = reportKey(address, protocol);
    this.reported.delete(key);
    this.reported.set(key, now);
    while (this.reported.size > this.options.maxSources) {
      const oldest = this.reported.keys().next();
      if (oldest.done === true) break;
      this.reported.delete(oldest.value);
    }
  }

  /**
   * The response failed, or was not made (paused): forget the pending block so the next probe
   * can try again, and give its prefix back the allowance it took: only blocks really made
   * count against BLOCK_RATE_PER_PREFIX, so a paused helper watching one scanner's 300 probes
   * does not use up its /24's allowance.
   */
  abandonBlock(address: string): void {
    if (!this.ledger.abandon(address)) return;
    const limit = this.options.blockRatePerPrefix ?? 0;
    if (limit <= 0) return;
    const bucket = this.prefixes.get(prefixOf(address, address.includes(':') ? 6 : 4));
    if (bucket !== undefined) bucket.tokens = Math.min(limit, bucket.tokens + 1);
  }

  /** A block added by hand (or restored from the store at start). */
  recordBlock(address: string, until: number | null): void {
    this.forgetReports(address);
    this.ledger.confirm(address, until);
  }

  /** Lifts a block (and forgets its counts and any report); true if there was a block. */
  forgetBlock(address: string): boolean {
    this.sources.delete(address);
    this.forgetReports(address);
    return this.ledger.forget(address);
  }

  isBlocked(address: string, now: number): boolean {
    return this.ledger.isBlocked(address, now);
  }

  /** Removes and returns the blocks whose time is up. */
  takeExpiredBlocks(now: number): string[] {
    return this.ledger.takeExpired(now);
  }

  blockedAddresses(): string[] {
    return this.ledger.keys();
  }

  stats(): { trackedSources: number; blocked: number; evictions: number; rateLimited: number } {
    return { trackedSources: this.sources.size, blocked: this.ledger.size, evictions: this.evictions, rateLimited: this.rateLimited };
  }

  private forgetReports(address: string): void {
    this.reported.delete(reportKey(address, 'tcp'));
    this.reported.delete(reportKey(address, 'udp'));
  }

  /** Reported without a block within the trigger window (a window of 0 still dedupes for a minute). */
  private wasReported(address: string, now: number): boolean {
    const at = this.reported.get(address);
    if (at === undefined) return false;
    if (now - at < Math.max(this.options.windowMs, MINUTE_MS)) return true;
    this.reported.delete(address);
    return false;
  }

  /** Null when the source's prefix may have one more block now (and takes it); else the refusal. */
  private takePrefixAllowance(address: string, family: AddressFamily, now: number): Verdict | null {
    const limit = this.options.blockRatePerPrefix ?? 0;
    if (limit <= 0) return null;
    const prefix = prefixOf(address, family);
    let bucket = this.prefixes.get(prefix);
    if (bucket === undefined) bucket = { tokens: limit, last: now, limited: false };
    else this.prefixes.delete(prefix); // re-inserted below: least recently used first, for eviction
    bucket.tokens = Math.min(limit, bucket.tokens + (Math.max(0, now - bucket.last) * limit) / MINUTE_MS);
    bucket.last = now;
    this.prefixes.set(prefix, bucket);
    while (this.prefixes.size > this.options.maxSources) {
      const oldest = this.prefixes.keys().next();
      if (oldest.done === true) break;
      this.prefixes.delete(oldest.value);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.limited = false;
      return null;
    }
    const firstHit = !bucket.limited;
    bucket.limited = true;
    this.rateLimited += 1;
    return { kind: 'rate-limited', prefix, limit, firstHit };
  }

  private countHit(address: string, now: number): SourceState {
    const existing = this.sources.get(address);
    // Delete and re-insert: the Map's order is then least-recently-seen first, for eviction.
    if (existing !== undefined) this.sources.delete(address);
    const state = existing === undefined || now - existing.windowStart >= this.options.windowMs ? { hits: 0, windowStart: now, score: 0, weighed: null } : existing;
    state.hits += 1;
    this.sources.set(address, state);
    this.trimSources();
    return state;
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

/** A report is per protocol: a host only reported over UDP (BLOCK_UDP=0) is still blocked over TCP. */
function reportKey(address: string, protocol: Probe['protocol']): string {
  return `${protocol} ${address}`;
}

/** The IPv4 /24 or IPv6 /64 an address is in, as text (`198.18.0.0/24`, `fd00:5e:0:1::/64`). */
export function prefixOf(address: string, family: AddressFamily): string {
  if (family === 4) return `${address.slice(0, address.lastIndexOf('.'))}.0/24`;
  const [head = '', tail] = address.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? front : [...front, ...new Array<string>(8 - front.length - back.length).fill('0'), ...back];
  const top = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  while (top.length > 0 && top[top.length - 1] === '0') top.pop();
  return `${top.join(':')}::/64`;
}
