// The helper's numbers for Prometheus, with prom-client: probes by kind and mode, blocks
// added/removed/failed, blocks held per family and the share of the set they use, capture
// frames, control connections, store size, the fleet's exchange, the build and Node's own
// process metrics. By Prometheus' conventions: whatever counts since start is a counter
// named _total, and every labelled series whose label values are known is there at 0 from
// the start (rate() and absent() need a series before its first event). Counts of probes and
// events live in a MetricsTally the helper feeds from its start (metrics-tally.ts: this
// module, and prom-client with it, is loaded only while the endpoint is on); they and the
// rest are read at scrape time.

import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { ALL_MODES, ALL_SCAN_KINDS, DISCOVERY_KINDS, protocolOfMode, type Mode, type Probe, type ScanKind } from '../../shared/domain/types.js';
import type { HelperEvent } from '../../shared/domain/detection-event.js';
import { BLOCK_ORIGINS, BLOCK_REMOVAL_REASONS, MetricsTally } from './metrics-tally.js';
import { FLEET_REFUSAL_REASONS, type FleetRefusalReason, type FleetStatus } from '../fleet/fleet-sync.js';
import type { FirewallHealth } from '../firewall/firewall-owner.js';
import { PRODUCT_VERSION } from '../reporters/messages.js';
import { DESKTOP_VERSION } from '../version.js';

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
  readonly fleetRefused: ReadonlyMap<FleetRefusalReason, number>;
  /** The firewall owner's word on the kernel; null without a firewall. */
  readonly firewall: FirewallHealth | null;
  /** False when nothing is blocked at all (paused, blocking off, everything ignored). */
  readonly protecting: boolean;
  /** Scans (one record per scan, engine/scan-records.ts) since the helper started. */
  readonly scansStarted?: number;
}

/** The scan kinds a mode can report: classic tripwires see connections or datagrams, stealth and advanced TCP every kind. */
export function kindsOfMode(mode: Mode): readonly ScanKind[] {
  if (protocolOfMode(mode) === 'udp') return ['udp'];
  // Host discovery is no port's probe: it is in scan records, not in the per-mode probe counts.
  return mode === 'tcp' ? ['connect'] : ALL_SCAN_KINDS.filter((kind) => kind !== 'udp' && !(DISCOVERY_KINDS as readonly ScanKind[]).includes(kind));
}

export { BLOCK_ORIGINS, BLOCK_REMOVAL_REASONS } from './metrics-tally.js';

/**
 * A count since start read from a source that starts again at 0 (the capture's frame count,
 * when the capture is restarted for a new set of modes): what the source had when last read
 * is kept, so the counter never goes back. Frames between the last scrape and a restart are
 * not counted; a counter that went back would read to Prometheus as a helper restart.
 */
export class RunningTotal {
  private base = 0;
  private last = 0;

  read(current: number): number {
    if (current < this.last) this.base += this.last;
    this.last = current;
    return this.base + current;
  }
}

export class HelperMetrics {
  readonly registry = new Registry();

  /** `tally`: the counts since the helper started (fed by the helper; observeProbe/observeEvent feed it too). */
  constructor(
    snapshot: () => MetricsSnapshot,
    clock: () => number = Date.now,
    private readonly tally: MetricsTally = new MetricsTally(),
  ) {
    const registers = [this.registry];
    // Node's and the process's own (process_cpu_seconds_total, process_resident_memory_bytes,
    // nodejs_eventloop_lag_seconds...), under their standard names, without our prefix.
    // The event-loop lag histogram samples on a timer of this period: prom-client's default,
    // 10 ms, woke an idle helper 100 times a second (most of its idle CPU, measured with
    // strace); 100 ms still catches any stall worth a look.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    // Except the three gauges prom-client names _total (prometheus/client_js#283; promtool
    // flags them): sum(nodejs_active_handles) and the like, grouped by type, say the same.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    new Gauge({
      name: 'portsentry_build_info',
      help: 'Always 1; the labels say which build runs: its version, the PortSentry version it is compatible with, and the Node.js runtime.',
      labelNames: ['version', 'classic', 'node'],
      registers,
    }).set({ version: DESKTOP_VERSION, classic: PRODUCT_VERSION, node: process.version }, 1);
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
    // Counts since start that live elsewhere (the capture, the fleet): each scrape sets the counter to the source's total.
    const total = (name: string, help: string, labelNames: string[], set: (add: (value: number, labels?: Record<string, string>) => void, s: MetricsSnapshot) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          set((value, labels) => (labels === undefined ? this.inc(value) : this.inc(labels, value)), read());
        },
      });
    // Counts the helper's tally keeps since its start (metrics-tally.ts).
    total('portsentry_probes_total', 'Probes seen (tripwire touches and captured scan packets), by scan kind and detection mode.', ['kind', 'mode'], (add) => {
      for (const mode of ALL_MODES) for (const kind of kindsOfMode(mode)) add(tally.probes(kind, mode), { kind, mode });
      // A kind a mode is not listed for (none today) still counts, as the counter did before it had a tally.
      for (const { kind, mode, count } of tally.probeEntries()) if (!kindsOfMode(mode as Mode).includes(kind as ScanKind)) add(count, { kind, mode });
    });
    total('portsentry_blocks_added_total', 'Addresses blocked, by origin: local detection, by hand, or the fleet (CrowdSec).', ['origin'], (add) => {
      for (const origin of BLOCK_ORIGINS) add(tally.blocksAdded.get(origin) ?? 0, { origin });
    });
    total('portsentry_blocks_removed_total', 'Blocks lifted, by reason: expired, by hand, withdrawn by the fleet, other.', ['reason'], (add) => {
      for (const reason of BLOCK_REMOVAL_REASONS) add(tally.blocksRemoved.get(reason) ?? 0, { reason });
    });
    total('portsentry_blocks_failed_total', 'Scanners that should have been blocked but the firewall or command failed.', [], (add) => add(tally.blocksFailed));
    const frames = new RunningTotal();
    const undecoded = new RunningTotal();
    total('portsentry_capture_frames_total', 'Frames read from packet capture (stealth and advanced modes) since the helper started.', [], (add, s) => add(frames.read(s.captureFrames)));
    total('portsentry_capture_undecoded_frames_total', 'Captured frames that could not be decoded (dropped by the parser) since the helper started.', [], (add, s) =>
      add(undecoded.read(s.captureUndecoded)),
    );
    // Without a firewall there is nothing the kernel could lack (portsentry_protecting says whether anything is blocked).
    gauge('portsentry_firewall_in_sync', 'Whether the kernel holds every block, drop rule and trap the helper believes it does (1), or not (0: degraded).', [], (g, s) =>
      g.set(s.firewall === null || s.firewall.inSync ? 1 : 0),
    );
    gauge('portsentry_protecting', 'Whether the helper blocks scanners at all (0: paused, blocking off, or every address ignored).', [], (g, s) => g.set(s.protecting ? 1 : 0));
    total('portsentry_firewall_repairs_total', 'Times the firewall was restored after another program changed it (flushed the ruleset, deleted the table or blocks).', [], (add, s) =>
      add(s.firewall?.repairs ?? 0),
    );
    total('portsentry_scans_total', 'Scans seen since the helper started: one per scanner and run of probes (its record is in scans.list), however many probes it sent.', [], (add, s) =>
      add(s.scansStarted ?? 0),
    );
    gauge('portsentry_rpc_connections', 'Clients connected to the control socket now.', [], (g, s) => g.set(s.rpcConnections));
    gauge('portsentry_store_bytes', 'Size of the SQLite event store in bytes.', [], (g, s) => g.set(s.storeBytes));
    gauge('portsentry_store_events', 'Events held in the store.', [], (g, s) => g.set(s.storeEvents));
    gauge('portsentry_fleet_connected', 'Whether the last exchange with the CrowdSec LAPI worked (1), failed (0); absent without a fleet.', [], (g, s) => {
      g.reset();
      if (s.fleet?.connected != null) g.set(s.fleet.connected ? 1 : 0);
    });
    gauge('portsentry_fleet_alerts_queued', 'Alerts waiting for the CrowdSec LAPI.', [], (g, s) => g.set(s.fleet?.queued ?? 0));
    total('portsentry_fleet_alerts_sent_total', 'Alerts sent to the CrowdSec LAPI since start.', [], (add, s) => add(s.fleet?.sent ?? 0));
    total('portsentry_fleet_alerts_dropped_total', 'Alerts dropped since start: queue full while the LAPI was down, or rejected by it.', [], (add, s) => add(s.fleet?.dropped ?? 0));
    gauge('portsentry_fleet_blocks_held', 'Blocks held here because the fleet asked.', [], (g, s) => g.set(s.fleet?.fleetBlocks ?? 0));
    total('portsentry_fleet_decisions_refused_total', 'Fleet decisions not applied since start, by reason (protected address, ignore list, range, malformed...).', ['reason'], (add, s) => {
      for (const reason of FLEET_REFUSAL_REASONS) add(s.fleetRefused.get(reason) ?? 0, { reason });
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
    this.tally.observeProbe(probe);
  }

  observeEvent(event: HelperEvent): void {
    this.tally.observeEvent(event);
  }
}
