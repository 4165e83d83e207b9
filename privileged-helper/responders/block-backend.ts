// The one interface every firewall backend implements (nftables, iptables, route, pf,
// Windows Firewall). The daemon talks only to this; backends are chosen at start.

export interface BlockOptions {
  /** Seconds until the kernel lifts the block by itself; undefined = until unblocked. */
  readonly timeoutSeconds?: number;
  /** The tripwire that was hit, for backends driven by a KILL_ROUTE template ($PORT$). */
  readonly port?: number;
  /** The detection mode, for KILL_ROUTE templates ($MODE$). */
  readonly mode?: string;
}

export interface BlockBackend {
  /** Short name for logs and status, e.g. "nftables". */
  readonly name: string;
  /** Whether block/unblock take a CIDR prefix ("198.18.0.0/24", "fd00:5e::/64") as well as an address (absent: addresses only). */
  readonly prefixes?: boolean;
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
