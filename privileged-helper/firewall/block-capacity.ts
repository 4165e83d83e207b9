// What one blocked set holds, as far as this process knows: each element with the moment it
// lapses (or never), in the order it was added. It answers the two questions a full set
// raises: how full is it (warn the admin before it fills), and which blocks go to make room
// for a new scanner (soonest to expire first, then the oldest). Pure: the clock comes in.
//
// "As far as this process knows": the kernel trap adds elements by itself; the daemon sees
// those probes through capture and blocks them again, so they land here too, except the few
// capture may drop under a flood. Eviction chooses from this index alone (reading a full set
// back from the kernel takes nft minutes); the backend reads the set only when the index has
// nothing left to evict.

/** Never lapses (BLOCK_TIMEOUT 0, or blocked by hand without a timeout). */
const FOREVER = Number.POSITIVE_INFINITY;
const PRUNE_EVERY_MS = 10_000;

export type CapacityNews = { readonly kind: 'nearly-full'; readonly size: number; readonly capacity: number } | null;

export class BlockIndex {
  private readonly byKey = new Map<string, number>();
  private warned = false;
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    readonly capacity: number,
    /** Warn when this share of the capacity is in use; re-armed below 8/9 of it. */
    private readonly warnShare = 0.9,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /**
   * Records an element (re-adding moves it to the newest end). Returns news the first time
   * the set crosses the warning level, so the admin hears of it once, before it is full.
   */
  note(key: string, expiresAt: number | null, now: number): CapacityNews {
    this.byKey.delete(key);
    this.byKey.set(key, expiresAt ?? FOREVER);
    if (this.warned || this.byKey.size < this.warnLevel()) return null;
    // Lapsed elements are gone from the kernel already: count only what is still there.
    if (now - this.lastPrune >= PRUNE_EVERY_MS) this.prune(now);
    if (this.byKey.size < this.warnLevel()) return null;
    this.warned = true;
    return { kind: 'nearly-full', size: this.byKey.size, capacity: this.capacity };
  }

  /** Every element with the moment it lapses (Infinity: never), oldest first. */
  entries(): IterableIterator<[string, number]> {
    return this.byKey.entries();
  }

  forget(key: string): void {
    this.byKey.delete(key);
    if (this.warned && this.byKey.size < (this.warnLevel() * 8) / 9) this.warned = false;
  }

  /** Drops elements whose time is up (the kernel removed them itself). */
  prune(now: number): void {
    this.lastPrune = now;
    for (const [key, until] of this.byKey) if (until <= now) this.byKey.delete(key);
    if (this.warned && this.byKey.size < (this.warnLevel() * 8) / 9) this.warned = false;
  }

  /**
   * Up to `count` elements to evict: those that lapse soonest first, then the oldest of
   * those that never lapse. The caller removes them from the kernel, then calls forget.
   */
  victims(count: number, now: number): string[] {
    this.prune(now);
    if (count <= 0) return [];
    const expiries = new Float64Array(this.byKey.size);
    let finite = 0;
    for (const until of this.byKey.values()) if (until !== FOREVER) expiries[finite++] = until;
    const chosen: string[] = [];
    if (finite > 0) {
      const sorted = expiries.subarray(0, finite).sort();
      const threshold = sorted[Math.min(count, finite) - 1]!;
      for (const [key, until] of this.byKey) {
        if (chosen.length >= count) break;
        if (until <= threshold) chosen.push(key);
      }
    }
    if (chosen.length < count) {
      // Map order is insertion order: the first permanent ones are the oldest.
      for (const [key, until] of this.byKey) {
        if (chosen.length >= count) break;
        if (until === FOREVER) chosen.push(key);
      }
    }
    return chosen;
  }

  private warnLevel(): number {
    return Math.max(1, Math.floor(this.capacity * this.warnShare));
  }
}
