// The kernel trap's one owner while the daemon runs: plan changes reach nftables one at a
// time and in order, an unchanged plan costs nothing, and once closed (the daemon stopping)
// nothing arms it again, not even an install that was still in flight when close() came.
// Without the queue, a timer's install racing `systemctl stop` could leave the trap armed
// behind a stopped helper.

import { messages } from '../reporters/messages.js';
import type { TrapPlan } from './kernel-trap.js';

/** Installs a plan, or disarms the trap for null. */
export type TrapInstaller = (plan: TrapPlan | null) => Promise<void>;

export class TrapController {
  private chain: Promise<void> = Promise.resolve();
  /** The plan in place, as JSON ("null": none). */
  private installedKey = 'null';
  private closed = false;

  constructor(
    private readonly install: TrapInstaller,
    private readonly log: (message: string) => void,
  ) {}

  /** Puts this plan in place (null disarms); a failure is logged, detection goes on in user space. */
  apply(plan: TrapPlan | null): Promise<void> {
    return this.enqueue(async () => {
      if (!this.closed) await this.change(plan);
    });
  }

  /** Disarms for good, after whatever change is under way; later apply() calls do nothing. */
  close(): Promise<void> {
    this.closed = true;
    return this.enqueue(() => this.change(null));
  }

  private async change(plan: TrapPlan | null): Promise<void> {
    const key = JSON.stringify(plan);
    if (key === this.installedKey) return;
    try {
      await this.install(plan);
      this.installedKey = key;
      if (plan !== null) this.log(messages.trapArmed(plan.tcpPorts.length + plan.udpPorts.length + plan.udpTripwires.length));
    } catch (error) {
      this.log(messages.error(`the kernel trap could not be ${plan === null ? 'disarmed' : 'installed'}: ${(error as Error).message}; detection continues in user space`));
    }
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
