// What the helper believes the firewall holds: every block with the moment it lapses. The
// engine writes it as it decides (a pending mark the moment a source triggers, confirmed once
// the kernel took the block), the firewall owner reads it to make the kernel match (after a
// flush by another tool, a foreign delete, a backend change), and everything that says
// "blocked" (log, status, blocks.list, metrics) reads it too: one record, not one per caller.
// Pure: the clock comes in with each question.

/**
 * A block is one number per address, not an object: with a million blocked sources the
 * difference is tens of megabytes. PENDING between the decision and the backend's
 * confirmation, FOREVER until unblocked, otherwise the epoch ms when it lapses.
 */
const PENDING = -1;
const FOREVER = 0;

/**
 * Whole seconds a block lapsing at `until` has left, at least one: a kernel element put back
 * (after a flush, a restart, a backend change) gets the time it had, and a timeout of 0 would
 * mean "never" to nft.
 */
export function secondsLeft(until: number, now: number): number {
  return Math.max(1, Math.ceil((until - now) / 1000));
}

export class BlockLedger {
  private readonly blocks = new Map<string, number>();

  /** A source triggered; its block is on its way to the kernel. */
  markPending(key: string): void {
    this.blocks.set(key, PENDING);
  }

  /** The kernel holds the block until `until` (null: until unblocked). */
  confirm(key: string, until: number | null): void {
    this.blocks.set(key, until ?? FOREVER);
  }

  /** Drops a pending mark (the block failed or was not made); true if there was one. */
  abandon(key: string): boolean {
    if (this.blocks.get(key) !== PENDING) return false;
    this.blocks.delete(key);
    return true;
  }

  /** Lifts a block (pending or confirmed); true if there was one. */
  forget(key: string): boolean {
    return this.blocks.delete(key);
  }

  isPending(key: string): boolean {
    return this.blocks.get(key) === PENDING;
  }

  isBlocked(key: string, now: number): boolean {
    const until = this.blocks.get(key);
    if (until === undefined) return false;
    return until === PENDING || until === FOREVER || until > now;
  }

  /** When a confirmed block lapses: null for never, undefined when there is none (or it is pending). */
  until(key: string): number | null | undefined {
    const until = this.blocks.get(key);
    if (until === undefined || until === PENDING) return undefined;
    return until === FOREVER ? null : until;
  }

  /** Removes and returns the blocks whose time is up. */
  takeExpired(now: number): string[] {
    const expired: string[] = [];
    for (const [key, until] of this.blocks) {
      if (until > FOREVER && until <= now) expired.push(key);
    }
    for (const key of expired) this.blocks.delete(key);
    return expired;
  }

  /** Confirmed blocks still in force, with when each lapses (null: never). */
  *confirmed(now: number): IterableIterator<{ key: string; until: number | null }> {
    for (const [key, until] of this.blocks) {
      if (until === PENDING) continue;
      if (until === FOREVER) yield { key, until: null };
      else if (until > now) yield { key, until };
    }
  }

  /** Every key, pending included. */
  keys(): string[] {
    return [...this.blocks.keys()];
  }

  get size(): number {
    return this.blocks.size;
  }
}
