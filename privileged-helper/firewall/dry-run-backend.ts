// A firewall backend that keeps its "kernel" in memory, in the manner of cs-firewall-bouncer's
// dry-run backend: a real implementation of the interface (blocks with their expiry, a
// structure that can be lost, a trap, removals heard as `nft monitor` would report them), so
// the firewall owner and the daemon can be run and held to their word without a kernel, and
// the interface is documented by example. `otherProgram` plays the admin's other tools.

import type { BlockOptions } from './block-backend.js';
import type { TrapPlan } from './kernel-trap.js';
import { parseBlockTarget } from '../../shared/domain/block-target.js';
import type { CheckableBackend } from './firewall-owner.js';
import type { ForeignRemoval, NftMonitorHandle } from './nft-monitor.js';

export class DryRunBackend implements CheckableBackend {
  readonly name = 'dry-run';
  readonly prefixes = true;
  /** The "kernel": each block with when it lapses (Infinity: never). */
  readonly kernel = new Map<string, number>();
  /** Whether our table (sets, drop rules) exists. */
  tablePresent = false;
  /** The trap as installed; null when disarmed or lost with the table. */
  trapInstalled: TrapPlan | null = null;
  /** The next calls to fail, by operation (e.g. a full disk, nft missing). */
  readonly failNext = { start: 0, block: 0, unblock: 0, verify: 0 };
  readonly calls: string[] = [];
  private watchers = new Set<(removal: ForeignRemoval) => void>();

  constructor(private readonly clock: () => number) {}

  describeBlock(address: string, options: BlockOptions = {}): string {
    return `dry-run block ${address}${options.timeoutSeconds === undefined ? '' : ` for ${options.timeoutSeconds} s`}`;
  }

  async start(): Promise<void> {
    this.calls.push('start');
    this.take('start');
    this.tablePresent = true;
  }

  async restore(): Promise<void> {
    this.calls.push('restore');
    this.take('start');
    this.tablePresent = true;
  }

  async block(address: string, options: BlockOptions = {}): Promise<void> {
    this.calls.push(`block ${address}`);
    this.take('block');
    const key = canonical(address);
    if (!this.tablePresent) throw new Error('No such file or directory (the table is gone)');
    this.kernel.set(key, options.timeoutSeconds === undefined ? Number.POSITIVE_INFINITY : this.clock() + options.timeoutSeconds * 1000);
  }

  async unblock(address: string): Promise<void> {
    this.calls.push(`unblock ${address}`);
    this.take('unblock');
    if (!this.tablePresent) throw new Error('No such file or directory (the table is gone)');
    this.kernel.delete(canonical(address));
  }

  async setTrap(plan: TrapPlan | null): Promise<void> {
    this.calls.push(plan === null ? 'disarm' : 'arm');
    this.tablePresent = true;
    this.trapInstalled = plan;
  }

  async list(): Promise<string[]> {
    return this.held();
  }

  async stop(): Promise<void> {}

  async remove(): Promise<void> {
    this.loseTable();
  }

  async verify(trap: TrapPlan | null): Promise<string[]> {
    this.take('verify');
    if (!this.tablePresent) return ['the table inet dry-run'];
    return trap !== null && this.trapInstalled === null ? ["the kernel trap's rules"] : [];
  }

  watch(onRemoval: (removal: ForeignRemoval) => void): NftMonitorHandle {
    this.watchers.add(onRemoval);
    return { stop: () => this.watchers.delete(onRemoval) };
  }

  removedKeys(_set: string, text: string): string[] {
    return text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** The blocks the "kernel" holds now (lapsed ones dropped, as the kernel's timeouts do). */
  held(): string[] {
    const now = this.clock();
    for (const [key, until] of this.kernel) if (until <= now) this.kernel.delete(key);
    return [...this.kernel.keys()].sort();
  }

  /** What other programs do to the firewall, heard the way `nft monitor` reports it. */
  readonly otherProgram = {
    flushRuleset: () => {
      this.loseTable();
      this.tell({ structure: true, elements: [], by: '999 (nft)' });
    },
    deleteElements: (...keys: string[]) => {
      for (const key of keys) this.kernel.delete(key);
      this.tell({ structure: false, elements: [{ set: 'blocked4', text: keys.join(', ') }], by: '999 (nft)' });
    },
  };

  private loseTable(): void {
    this.tablePresent = false;
    this.trapInstalled = null;
    this.kernel.clear();
  }

  private tell(removal: ForeignRemoval): void {
    for (const watcher of this.watchers) watcher(removal);
  }

  private take(operation: keyof DryRunBackend['failNext']): void {
    if (this.failNext[operation] <= 0) return;
    this.failNext[operation] -= 1;
    throw new Error(`dry-run: ${operation} fails as asked`);
  }
}

function canonical(address: string): string {
  const target = parseBlockTarget(address);
  return typeof target === 'string' ? address : target.text;
}
