// At start the firewall and the store are brought into agreement: blocks the store knows
// are (re)applied with the time they have left, blocks that lapsed while the helper was
// down are lifted and recorded as such, and blocks only the firewall holds (a crash between
// the firewall change and the store write) are adopted into the store. Idempotent.

import type { Clock } from '../../shared/domain/types.js';
import type { BlockBackend } from './block-backend.js';
import { messages } from '../reporters/messages.js';
import { secondsLeft } from './block-ledger.js';
import type { EventStore } from '../store/event-store.js';

export interface ReconcileDeps {
  readonly store: EventStore;
  readonly firewall: BlockBackend | null;
  readonly clock: Clock;
  readonly log: (message: string) => void;
  readonly restore: (address: string, until: number | null) => void;
}

export interface ReconcileSummary {
  readonly reapplied: number;
  readonly expired: number;
  readonly adopted: number;
  readonly failed: number;
}

export async function reconcileBlocks(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const { store, firewall, clock, log } = deps;
  const now = clock();
  let reapplied = 0;
  let expired = 0;
  let adopted = 0;
  let failed = 0;
  const inFirewall = new Set(firewall === null ? [] : await firewall.list().catch(() => []));
  const known = new Set<string>();
  // Re-applied all at once: the backend batches them into a few transactions (a block per
  // command would take minutes at a million).
  const reapplying: Array<Promise<void>> = [];
  for (const block of store.blocks()) {
    known.add(block.address);
    if (block.until !== null && block.until <= now) {
      await firewall?.unblock(block.address).catch(() => undefined);
      store.record({ type: 'block', change: 'removed', at: now, address: block.address, reason: 'expired while the helper was stopped', until: null });
      log(messages.blockExpired(block.address));
      expired += 1;
      continue;
    }
    if (firewall === null) {
      deps.restore(block.address, block.until);
      continue;
    }
    const left = block.until === null ? 0 : secondsLeft(block.until, now);
    reapplying.push(
      firewall.block(block.address, left > 0 ? { timeoutSeconds: left } : {}).then(
        () => {
          reapplied += 1;
          deps.restore(block.address, block.until);
        },
        (error: unknown) => {
          failed += 1;
          log(messages.couldNotBlock(block.address, `re-applying a stored block: ${(error as Error).message}`));
        },
      ),
    );
  }
  await Promise.all(reapplying);
  for (const address of inFirewall) {
    if (known.has(address)) continue;
    store.record({ type: 'block', change: 'added', at: now, address, reason: 'found in the firewall at start', until: null });
    deps.restore(address, null);
    adopted += 1;
  }
  if (reapplied + expired + adopted + failed > 0) {
    // A WARNING only when something failed: a start that put every block back is news, not a problem.
    const summary = `blocks at start: ${reapplied} re-applied from the store, ${expired} expired, ${adopted} adopted from the firewall, ${failed} failed`;
    log(failed > 0 ? messages.warning(summary) : `adminalert: ${summary}`);
  }
  return { reapplied, expired, adopted, failed };
}
