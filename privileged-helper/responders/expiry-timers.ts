// Block expiry kept in the process, for firewalls with no per-entry timeout of their own
// (pf tables, Windows Firewall rules); nftables elements expire in the kernel instead.

export class ExpiryTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** After `seconds`, calls `expire(address)` once; replaces any earlier timer for it. */
  schedule(address: string, seconds: number, expire: (address: string) => void): void {
    this.cancel(address);
    if (seconds <= 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(address);
      expire(address);
    }, seconds * 1000);
    timer.unref();
    this.timers.set(address, timer);
  }

  cancel(address: string): void {
    const timer = this.timers.get(address);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(address);
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }
}
