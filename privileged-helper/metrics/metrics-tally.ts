// The counts the Prometheus page reports as counters since start (probes by kind and mode,
// blocks added by origin, removed by reason, failed), kept as plain numbers whether or not
// METRICS is on: prom-client (and the page, helper-metrics.ts) is loaded only when the
// endpoint is, yet a page opened later still counts from the helper's start. Pure.

import type { Probe } from '../../shared/domain/types.js';
import type { HelperEvent } from '../../shared/domain/detection-event.js';

export const BLOCK_ORIGINS = ['detection', 'hand', 'fleet'] as const;
export const BLOCK_REMOVAL_REASONS = ['expired', 'hand', 'fleet', 'other'] as const;
export type BlockOrigin = (typeof BLOCK_ORIGINS)[number];
export type BlockRemovalReason = (typeof BLOCK_REMOVAL_REASONS)[number];

export class MetricsTally {
  /** Probes by "kind mode". */
  private readonly probeCounts = new Map<string, number>();
  readonly blocksAdded = new Map<BlockOrigin, number>();
  readonly blocksRemoved = new Map<BlockRemovalReason, number>();
  blocksFailed = 0;

  observeProbe(probe: Probe): void {
    const key = `${probe.kind} ${probe.mode}`;
    this.probeCounts.set(key, (this.probeCounts.get(key) ?? 0) + 1);
  }

  observeEvent(event: HelperEvent): void {
    if (event.type === 'scan') {
      if (event.action === 'block-failed') this.blocksFailed += 1;
      return;
    }
    if (event.change === 'added') {
      const origin: BlockOrigin = event.fleet !== undefined ? 'fleet' : /^(touch|\w[\w-]* probe) of /.test(event.reason) ? 'detection' : 'hand';
      this.blocksAdded.set(origin, (this.blocksAdded.get(origin) ?? 0) + 1);
    } else {
      const reason: BlockRemovalReason = event.reason === 'expired' ? 'expired' : event.reason === 'the fleet withdrew its ban' ? 'fleet' : /by hand/.test(event.reason) ? 'hand' : 'other';
      this.blocksRemoved.set(reason, (this.blocksRemoved.get(reason) ?? 0) + 1);
    }
  }

  /** Probes seen of this kind in this mode since start. */
  probes(kind: string, mode: string): number {
    return this.probeCounts.get(`${kind} ${mode}`) ?? 0;
  }

  /** Every kind and mode seen so far, with its count. */
  probeEntries(): Array<{ kind: string; mode: string; count: number }> {
    return [...this.probeCounts].map(([key, count]) => {
      const [kind = '', mode = ''] = key.split(' ');
      return { kind, mode, count };
    });
  }
}
