// The helper's numbers for Prometheus, with prom-client: probes by kind and mode, blocks
// added/removed/failed, blocks held per family and the share of the set they use, capture
// frames, control connections, store size, and the fleet's exchange. Counters are fed from
// the daemon's probes and events; gauges are read from a snapshot at scrape time.

import { Counter, Gauge, Registry } from 'prom-client';
import type { Probe } from '../../shared/domain/types.js';
import type { HelperEvent } from '../../shared/domain/detection-event.js';
import type { FleetStatus } from '../fleet/fleet-sync.js';
import type { FirewallHealth } from '../firewall/firewall-owner.js';

/**
 * A page is rendered at most once per this long; scrapes meanwhile get that page. Rendering
 * walks the blocked list (about 200 ms with a million blocks) on the thread that detects:
 * without this bound, a client repeating GETs on a few connections would keep detection
 * waiting. Prometheus scrapes every 15 s or so and never sees the difference.
 */
export const MIN_RENDER_INTERVAL_MS = 1000;

/** What the gauges read at scrape time. */
export interface MetricsSnapshot {
  readonly blockedAddresses: readonly string[];
  /** Elements each blocked set holds at most (BLOCK_SET_SIZE). */
  readonly setCapacity: number;
  readonly captureFrames: number;
  readonly captureUndecoded: number;
  readonly rpcConnections: number;
  readonly storeBytes: number;
  readonly storeEvents: number;
  readonly fleet: FleetStatus | null;
  readonly fleetRefused: ReadonlyMap<string, number>;
  /** The firewall owner's word on the kernel; null without a firewall. */
  readonly firewall: FirewallHealth | null;
  /** False when nothing is blocked at all (paused, blocking off, everything ignored). */
  readonly protecting: boolean;
}

export class HelperMetrics {
  readonly registry = new Registry();
  private readonly probes: Counter<'kind' | 'mode'>;
  private readonly blocksAdded: Counter<'origin'>;
  private readonly blocksRemoved: Counter<'reason'>;
  private readonly blocksFailed: Counter;

  constructor(snapshot: () => MetricsSnapshot, clock: () => number = Date.now) {
    const registers = [this.registry];
    this.probes = new Counter({
      name: 'portsentry_probes_total',
      help: 'Probes seen (tripwire touches and captured scan packets), by scan kind and detection mode.',
      labelNames: ['kind', 'mode'],
      registers,
    });
    this.blocksAdded = new Counter({
      name: 'portsentry_blocks_added_total',
      help: 'Addresses blocked, by origin: local detection, by hand, or the fleet (CrowdSec).',
      labelNames: ['origin'],
      registers,
    });
    this.blocksRemoved = new Counter({
      name: 'portsentry_blocks_removed_total',
      help: 'Blocks lifted, by reason: expired, by hand, withdrawn by the fleet, other.',
      labelNames: ['reason'],
      registers,
    });
    this.blocksFailed = new Counter({ name: 'portsentry_blocks_failed_total', help: 'Scanners that should have been blocked but the firewall or command failed.', registers });

    // Gauges share one snapshot per scrape: the first collect() takes it, the others reuse it.
    let current: MetricsSnapshot | null = null;
    const read = (): MetricsSnapshot => (current ??= snapshot());
    const gauge = (name: string, help: string, labelNames: string[], set: (g: Gauge<string>, s: MetricsSnapshot) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          set(this, read());
        },
      });
    gauge('portsentry_blocks_held', 'Addresses blocked now, per address family.', ['family'], (g, s) => {
      const v6 = s.blockedAddresses.reduce((n, a) => (a.includes(':') ? n + 1 : n), 0);
      g.set({ family: 'ipv4' }, s.blockedAddresses.length - v6);
      g.set({ family: 'ipv6' }, v6);
    });
    gauge('portsentry_block_set_used_ratio', 'Share of the blocked set in use per family (each set holds BLOCK_SET_SIZE elements).', ['family'], (g, s) => {
      const v6 = s.blockedAddresses.reduce((n, a) => (a.includes(':') ? n + 1 : n), 0);
      g.set({ family: 'ipv4' }, (s.blockedAddresses.length - v6) / s.setCapacity);
      g.set({ family: 'ipv6' }, v6 / s.setCapacity);
    });
    gauge('portsentry_capture_frames', 'Frames read from packet capture (tcpdump) since capture started.', [], (g, s) => g.set(s.captureFrames));
    gauge('portsentry_capture_undecoded_frames', 'Captured frames that could not be decoded (dropped by the parser) since capture started.', [], (g, s) => g.set(s.captureUndecoded));
    // Without a firewall there is nothing the kernel could lack (portsentry_protecting says whether anything is blocked).
    gauge('portsentry_firewall_in_sync', 'Whether the kernel holds every block, drop rule and trap the helper believes it does (1), or not (0: degraded).', [], (g, s) =>
      g.set(s.firewall === null || s.firewall.inSync ? 1 : 0),
    );
    gauge('portsentry_protecting', 'Whether the helper blocks scanners at all (0: paused, blocking off, or every address ignored).', [], (g, s) => g.set(s.protecting ? 1 : 0));
    new Counter({
      name: 'portsentry_firewall_repairs_total',
      help: 'Times the firewall was restored after another program changed it (flushed the ruleset, deleted the table or blocks).',
      registers,
      collect() {
        this.reset();
        this.inc(read().firewall?.repairs ?? 0);
      },
    });
    gauge('portsentry_rpc_connections', 'Clients connected to the control socket now.', [], (g, s) => g.set(s.rpcConnections));
    gauge('portsentry_store_bytes', 'Size of the SQLite event store in bytes.', [], (g, s) => g.set(s.storeBytes));
    gauge('portsentry_store_events', 'Events held in the store.', [], (g, s) => g.set(s.storeEvents));
    gauge('portsentry_fleet_connected', 'Whether the last exchange with the CrowdSec LAPI worked (1), failed (0); absent without a fleet.', [], (g, s) => {
      g.reset();
      if (s.fleet?.connected != null) g.set(s.fleet.connected ? 1 : 0);
    });
    gauge('portsentry_fleet_alerts_queued', 'Alerts waiting for the CrowdSec LAPI.', [], (g, s) => g.set(s.fleet?.queued ?? 0));
    gauge('portsentry_fleet_alerts_sent', 'Alerts sent to the CrowdSec LAPI since start.', [], (g, s) => g.set(s.fleet?.sent ?? 0));
    gauge('portsentry_fleet_alerts_dropped', 'Alerts dropped since start: queue full while the LAPI was down, or rejected by it.', [], (g, s) => g.set(s.fleet?.dropped ?? 0));
    gauge('portsentry_fleet_blocks_held', 'Blocks held here because the fleet asked.', [], (g, s) => g.set(s.fleet?.fleetBlocks ?? 0));
    gauge('portsentry_fleet_decisions_refused', 'Fleet decisions not applied since start, by reason (protected address, ignore list, range, malformed...).', ['reason'], (g, s) => {
      g.reset();
      for (const [reason, n] of s.fleetRefused) g.set({ reason }, n);
    });
    // The snapshot lives for one rendering only; one rendering at a time, at most one per
    // MIN_RENDER_INTERVAL_MS, whatever the number of clients asking.
    const metrics = this.registry.metrics.bind(this.registry);
    let rendering: Promise<string> | null = null;
    let last: { at: number; text: string } | null = null;
    this.registry.metrics = () => {
      if (rendering !== null) return rendering;
      if (last !== null && clock() - last.at < MIN_RENDER_INTERVAL_MS) return Promise.resolve(last.text);
      current = null;
      rendering = metrics()
        .then((text) => {
          last = { at: clock(), text };
          return text;
        })
        .finally(() => {
          current = null;
          rendering = null;
        });
      return rendering;
    };
  }

  observeProbe(probe: Probe): void {
    this.probes.inc({ kind: probe.kind, mode: probe.mode });
  }

  observeEvent(event: HelperEvent): void {
    if (event.type === 'scan') {
      if (event.action === 'block-failed') this.blocksFailed.inc();
      return;
    }
    if (event.change === 'added') {
      this.blocksAdded.inc({ origin: event.fleet !== undefined ? 'fleet' : /^(touch|\w[\w-]* probe) of /.test(event.reason) ? 'detection' : 'hand' });
    } else {
      const reason = event.reason === 'expired' ? 'expired' : event.reason === 'the fleet withdrew its ban' ? 'fleet' : /by hand/.test(event.reason) ? 'hand' : 'other';
      this.blocksRemoved.inc({ reason });
    }
  }
}
