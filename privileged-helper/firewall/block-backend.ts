// The one interface every firewall backend implements (nftables, the KILL_ROUTE command, pf,
// Windows Firewall). The daemon talks only to this; backends are chosen at start. What differs
// between them beyond blocking itself is carried here too: how a block reads in the log, and
// whether the backend can block inside the kernel before user space hears of a probe (the trap).

import type { TrapPlan } from './kernel-trap.js';
import type { NflogCapturePlan } from '../capture/nflog-capture.js';

export interface BlockOptions {
  /** Seconds until the kernel lifts the block by itself; undefined = until unblocked. */
  readonly timeoutSeconds?: number;
  /** The tripwire that was hit, for backends driven by a KILL_ROUTE template ($PORT$). */
  readonly port?: number;
  /** The detection mode, for KILL_ROUTE templates ($MODE$). */
  readonly mode?: string;
  /**
   * The target may be blocked already and this block's time replaces the one in place (the
   * dashboard's Extend). Done without a moment in which the target is not blocked.
   */
  readonly replace?: boolean;
}

export interface BlockBackend {
  /** Short name for logs and status, e.g. "nftables". */
  readonly name: string;
  /** Whether block/unblock take a CIDR prefix ("198.18.0.0/24", "fd00:5e::/64") as well as an address (absent: addresses only). */
  readonly prefixes?: boolean;
  /**
   * The block as the classic log line shows it ("has been blocked via dropped route using
   * command: \"...\""): the command that does what this backend does for this target, in the
   * backend's own tool's words (nft, pfctl, netsh, or the admin's KILL_ROUTE argv).
   */
  describeBlock(address: string, options?: BlockOptions): string;
  /**
   * Installs (a plan) or disarms (null) the kernel trap: probes that block their sender inside
   * the kernel. Only backends that can do that have it (nftables). Idempotent.
   */
  setTrap?(plan: TrapPlan | null): Promise<void>;
  /**
   * Installs (a plan) or removes (null) the rules that feed packet capture from netfilter's
   * log (capture/nflog-capture.ts). Only backends that own nftables rules have it. Idempotent.
   */
  setCapture?(plan: NflogCapturePlan | null): Promise<void>;
  /** Creates what the backend owns (table, sets, rules). Idempotent. */
  start(): Promise<void>;
  /**
   * Blocks a validated canonical address, or a prefix where `prefixes` is true. Idempotent:
   * blocking twice (or what a wider block already covers) is not an error.
   */
  block(address: string, options?: BlockOptions): Promise<void>;
  /** Lifts a block. Idempotent: unblocking an address that is not blocked is not an error. */
  unblock(address: string): Promise<void>;
  /** The addresses currently blocked by this backend, canonical form. */
  list(): Promise<string[]>;
  /** Stops helper processes; leaves the blocks in place. */
  stop(): Promise<void>;
  /** Removes everything the backend created (its table and nothing else). */
  remove(): Promise<void>;
  /**
   * Backends with a bounded capacity evict old blocks to make room for new scanners; the
   * listener hears which ones went, so the daemon's record stays true.
   */
  setEvictionListener?(listener: (targets: readonly string[], why: string) => void): void;
}

/** A failure a person can act on: what failed, for whom, and why. */
export class BlockError extends Error {
  constructor(
    readonly code: 'backend-unavailable' | 'command-failed' | 'invalid-address' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'BlockError';
  }
}
