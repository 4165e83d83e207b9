// The one owner of kernel state. Between the daemon and a firewall backend, it makes the
// kernel hold what the block ledger says (every block with its time left, the drop rules and
// the kernel trap), and it notices when the kernel stops doing so:
//   - a removal by another program, heard the moment it happens (`nft monitor`): the table,
//     a set, a chain or a rule gone (`nft flush ruleset`, `systemctl restart nftables`, a
//     firewalld or Docker reload) is restored, with every block and the trap; blocks taken
//     out one by one are put back with their time left;
//   - a command that failed (a missing table is never a success): the structure is checked,
//     restored, and the command tried once more; only then is it a failure;
//   - a steady check (every CHECK_INTERVAL_MS, 5 min) as the backstop for whatever the monitor missed.
// Each repair is one log line and one count; while the kernel cannot be made to match, the
// owner says "degraded" and why (status, GUI, metrics), and keeps trying. Backends that
// cannot be checked (the admin's KILL_ROUTE command, pf, Windows Firewall) are passed through.

import type { BlockBackend, BlockOptions } from './block-backend.js';
import type { TrapPlan } from './kernel-trap.js';
import type { NflogCapturePlan } from '../capture/nflog-capture.js';
import type { ForeignRemoval, NftMonitorHandle } from './nft-monitor.js';
import { parseBlockTarget } from '../../shared/domain/block-target.js';
import { messages } from '../reporters/messages.js';
import { secondsLeft, type BlockLedger } from './block-ledger.js';

/** What a backend offers for drift checking (the nftables backend has it all). */
export interface CheckableBackend extends BlockBackend {
  /** What of the backend's own structure (table, sets, chains) the kernel lacks; [] when all of it is there. */
  verify(trap: TrapPlan | null): Promise<string[]>;
  /** Puts the table, its sets and its drop rules back; idempotent, blocks already there stay. */
  restore(): Promise<void>;
  /** Hears removals other programs make; `onGap` when it may have missed some. */
  watch?(onRemoval: (removal: ForeignRemoval) => void, onGap: (why: string) => void): NftMonitorHandle;
  /** The block keys an element list from the monitor names. */
  removedKeys?(set: string, text: string): string[];
}

export interface FirewallHealth {
  /** The kernel holds what the helper believes (as of the last check or change). */
  readonly inSync: boolean;
  /** Why not, in a sentence; null when in sync. */
  readonly problem: string | null;
  /** Times the kernel was put back after another program changed it. */
  readonly repairs: number;
}

export interface FirewallOwnerDeps {
  readonly log: (message: string) => void;
  readonly clock: () => number;
  /** The steady backstop check; default CHECK_INTERVAL_MS. */
  readonly checkIntervalMs?: number;
  /** Told each time the health (in sync, or degraded and why) changes. */
  readonly onHealthChange?: () => void;
}

/**
 * The backstop check's period. The monitor hears every change as it happens, so this is only
 * for what it could miss (its own restart is followed by a check at once); each check spawns
 * nft (tens of ms of CPU), which every 30 s was most of an idle helper's cost.
 */
export const CHECK_INTERVAL_MS = 300_000;
/** The longest wait between repairs that keep failing. */
const RETRY_MAX_MS = 30_000;
/** A failed repair is tried again after this, doubling up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1_000;
/** Removals heard within this are handled together (a `flush set` is one line per element). */
const SETTLE_MS = 20;
/** The trap's sets whose content the plan fixes (the dynamic ones fill and lapse by themselves). */
const TRAP_PLAN_SETS = /^trap_(ignore[46]|tcp|udp|udp_tripwires|tcp_tripwires|shared6)$/;

export function isCheckable(backend: BlockBackend): backend is CheckableBackend {
  return typeof (backend as Partial<CheckableBackend>).verify === 'function';
}

export class FirewallOwner implements BlockBackend {
  private trap: TrapPlan | null = null;
  private capture: NflogCapturePlan | null = null;
  private inSync = true;
  private problem: string | null = null;
  private repairs = 0;
  /** Blocks sent to the kernel whose answer has not come: a repair meanwhile puts them back too. */
  private readonly inFlight = new Map<string, BlockOptions>();
  /** Structural changes and checks run one at a time, so a check never sees half of our own change. */
  private chain: Promise<unknown> = Promise.resolve();
  private monitor: NftMonitorHandle | null = null;
  private interval: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_FIRST_MS;
  private settleTimer: NodeJS.Timeout | null = null;
  private heard: ForeignRemoval[] = [];
  private stopped = false;
  private saidProblem: string | null = null;
  /** A check asked for but not started yet: later asks join it (a burst of failures is one check). */
  private queuedCheck: { promise: Promise<boolean>; force: boolean; why: string | null } | null = null;

  constructor(
    readonly backend: BlockBackend,
    private readonly ledger: BlockLedger,
    private readonly deps: FirewallOwnerDeps,
  ) {}

  get name(): string {
    return this.backend.name;
  }

  get prefixes(): boolean | undefined {
    return this.backend.prefixes;
  }

  describeBlock(address: string, options?: BlockOptions): string {
    return this.backend.describeBlock(address, options);
  }

  health(): FirewallHealth {
    return { inSync: this.inSync, problem: this.problem, repairs: this.repairs };
  }

  async start(): Promise<void> {
    await this.backend.start();
    // A backend brought up while the helper already holds blocks (a reload changed the table
    // or the kind of firewall): every one of them goes in, with its time left.
    const now = this.deps.clock();
    await Promise.all([...this.ledger.confirmed(now)].map(({ key, until }) => this.backend.block(key, timeLeft(until, now))));
    const backend = this.backend;
    if (!isCheckable(backend)) return;
    this.monitor =
      backend.watch?.(
        (removal) => this.heardRemoval(removal),
        (why) => void this.check(`${why}; changes made meanwhile were not heard`, true),
      ) ?? null;
    this.interval = setInterval(() => void this.check(null), this.deps.checkIntervalMs ?? CHECK_INTERVAL_MS);
    this.interval.unref();
  }

  async block(address: string, options: BlockOptions = {}): Promise<void> {
    const key = keyOf(address);
    this.inFlight.set(key, options);
    try {
      await this.withRepair(`blocking ${address}`, () => this.backend.block(address, options));
    } finally {
      this.inFlight.delete(key);
    }
  }

  async unblock(address: string): Promise<void> {
    await this.withRepair(`unblocking ${address}`, () => this.backend.unblock(address));
  }

  async setTrap(plan: TrapPlan | null): Promise<void> {
    this.trap = plan;
    const setTrap = this.backend.setTrap?.bind(this.backend);
    if (setTrap === undefined) return;
    await this.withRepair('installing the kernel trap', () => this.serially(() => setTrap(plan)));
  }

  /** The rules feeding capture from netfilter's log: installed now, and put back with every repair. */
  async setCapture(plan: NflogCapturePlan | null): Promise<void> {
    this.capture = plan;
    const setCapture = this.backend.setCapture?.bind(this.backend);
    if (setCapture === undefined) return;
    await this.withRepair('installing the capture rules', () => this.serially(() => setCapture(plan)));
  }

  list(): Promise<string[]> {
    return this.backend.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.monitor?.stop();
    for (const timer of [this.interval, this.retryTimer, this.settleTimer]) if (timer !== null) clearTimeout(timer);
    await this.chain.catch(() => undefined);
    await this.backend.stop();
  }

  remove(): Promise<void> {
    return this.backend.remove();
  }

  setEvictionListener(listener: (targets: readonly string[], why: string) => void): void {
    this.backend.setEvictionListener?.(listener);
  }

  /**
   * Compares the kernel with what it should hold and restores what is missing. `why`: what
   * prompted it (null: the steady check). `force`: restore the rules and the trap even if
   * every set and chain is there (a rule was deleted: listing rules costs every element of
   * the sets they name, so rules are not read, they are put back). Resolves with whether the
   * kernel is in sync after.
   */
  check(why: string | null, force = false): Promise<boolean> {
    const backend = this.backend;
    if (!isCheckable(backend) || this.stopped) return Promise.resolve(this.inSync);
    const queued = this.queuedCheck;
    if (queued !== null) {
      queued.force ||= force;
      queued.why ??= why;
      return queued.promise;
    }
    const ask = { force, why, promise: Promise.resolve(false) };
    ask.promise = this.serially(async () => {
      this.queuedCheck = null;
      let missing: string[];
      try {
        missing = await backend.verify(this.trap);
      } catch (error) {
        this.degraded(`the firewall could not be read: ${(error as Error).message}`);
        return false;
      }
      if (missing.length === 0 && !ask.force) {
        this.recovered();
        return true;
      }
      return this.repair(backend, missing, ask.why);
    });
    this.queuedCheck = ask;
    return ask.promise;
  }

  /** Runs a change; if it fails, checks (and restores) the structure and tries once more. */
  private async withRepair(what: string, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      // A refused address is the caller's; anything else may be the firewall's state.
      if (!isCheckable(this.backend) || this.stopped || (error as { code?: string }).code === 'invalid-address') throw error;
      const inSync = await this.check(`${what} failed: ${(error as Error).message}`);
      if (!inSync) throw error;
      await change();
    }
  }

  private async repair(backend: CheckableBackend, missing: readonly string[], why: string | null): Promise<boolean> {
    const started = this.deps.clock();
    const now = started;
    // A lost set lost its blocks; with every set still there only rules can have gone.
    const setsLost = missing.some((what) => /^the (table|set) /.test(what));
    try {
      await backend.restore();
      let count = 0;
      if (setsLost) {
        // Every block the helper holds, with the time it has left; and those still on their way.
        const readding: Array<Promise<void>> = [];
        for (const { key, until } of this.ledger.confirmed(now)) {
          count += 1;
          readding.push(backend.block(key, timeLeft(until, now)));
        }
        for (const [key, options] of this.inFlight) readding.push(backend.block(key, options));
        await Promise.all(readding);
      }
      if (this.trap !== null) await backend.setTrap?.(this.trap);
      if (this.capture !== null) await backend.setCapture?.(this.capture);
      const still = await backend.verify(this.trap);
      if (still.length > 0) {
        this.degraded(`the firewall was restored but still lacks ${still.join(', ')}`);
        return false;
      }
      this.repairs += 1;
      const trap = this.trap === null ? '' : ' and the kernel trap';
      const lacked = missing.length === 0 ? 'rules of ours' : missing.join(', ');
      const restored = setsLost ? `restored it with ${count} block${count === 1 ? '' : 's'} (each with the time it had left)${trap}` : `restored the drop rules${trap}`;
      this.deps.log(messages.warning(`the firewall lacked ${lacked}${why === null ? '' : ` (${why})`}; ${restored} in ${this.deps.clock() - started} ms (repair ${this.repairs})`));
      this.recovered();
      return true;
    } catch (error) {
      this.degraded(`the firewall lacks ${missing.length === 0 ? 'rules of ours' : missing.join(', ')} and could not be restored: ${(error as Error).message}`);
      return false;
    }
  }

  /** Removals by another program: gathered for a moment (a flushed set is many lines), then handled. */
  private heardRemoval(removal: ForeignRemoval): void {
    this.heard.push(removal);
    if (this.settleTimer !== null) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      const heard = this.heard;
      this.heard = [];
      void this.handleRemovals(heard);
    }, SETTLE_MS);
  }

  private async handleRemovals(removals: readonly ForeignRemoval[]): Promise<void> {
    const backend = this.backend;
    if (!isCheckable(backend) || this.stopped) return;
    const by = [...new Set(removals.map((r) => r.by))].join(', ');
    if (removals.some((r) => r.structure || r.elements.some((e) => TRAP_PLAN_SETS.test(e.set)))) {
      await this.check(`removed by another program: process ${by}`, true);
      return;
    }
    // Blocks taken out one by one: those the helper still holds go back with their time left.
    const now = this.deps.clock();
    const back: Array<{ key: string; until: number | null }> = [];
    for (const { set, text } of removals.flatMap((r) => r.elements)) {
      for (const key of backend.removedKeys?.(set, text) ?? []) {
        const until = this.ledger.until(key);
        if (until === undefined || (until !== null && until <= now)) continue;
        back.push({ key, until });
      }
    }
    if (back.length === 0) return;
    const results = await Promise.allSettled(back.map(({ key, until }) => backend.block(key, timeLeft(until, now))));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) {
      await this.check(`putting back ${failed} blocks another program removed failed`);
      return;
    }
    this.repairs += 1;
    const shown =
      back
        .slice(0, 5)
        .map(({ key }) => key)
        .join(', ') + (back.length > 5 ? `, and ${back.length - 5} more` : '');
    this.deps.log(
      messages.warning(
        `another program (process ${by}) removed ${back.length} block${back.length === 1 ? '' : 's'} the helper holds (${shown}); put back, each with the time it had left (repair ${this.repairs})`,
      ),
    );
  }

  private degraded(problem: string): void {
    const changed = this.inSync || this.problem !== problem;
    this.inSync = false;
    this.problem = problem;
    if (changed) this.deps.onHealthChange?.();
    if (this.saidProblem !== problem) {
      this.saidProblem = problem;
      this.deps.log(messages.error(`${problem}; the helper's blocks are not all in the kernel (degraded); trying again`));
    }
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.check('trying again after a failed repair');
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private recovered(): void {
    const changed = !this.inSync;
    if (!this.inSync && this.problem !== null) this.deps.log(messages.warning("the firewall holds the helper's blocks again (no longer degraded)"));
    this.inSync = true;
    this.problem = null;
    this.saidProblem = null;
    this.retryMs = RETRY_FIRST_MS;
    if (changed) this.deps.onHealthChange?.();
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.chain.then(step, step);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** Block options for what is left of a block's time (none: until unblocked). */
function timeLeft(until: number | null, now: number): BlockOptions {
  return until === null ? {} : { timeoutSeconds: secondsLeft(until, now) };
}

/** The ledger's key for a block target (canonical text); the text itself when it does not parse. */
function keyOf(address: string): string {
  const target = parseBlockTarget(address);
  return typeof target === 'string' ? address : target.text;
}
