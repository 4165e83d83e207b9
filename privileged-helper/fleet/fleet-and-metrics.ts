// Wiring of what reaches beyond this host: the CrowdSec fleet (fleet-sync.ts) and the
// Prometheus endpoint (metrics/). Started after the daemon, fed its probes and events,
// rebuilt on reload when their settings changed; both off by default, and neither can
// stop detection: their failures are logged and the helper runs on. The metrics page (and
// prom-client, ~15 MB of the helper's memory and a 10 ms event-loop-delay timer) is loaded
// only when the endpoint is on; its counts since start are kept meanwhile in a MetricsTally.

import type { PortSentryConfig } from '../config/config.js';
import type { Probe } from '../../shared/domain/types.js';
import type { Daemon } from '../daemon/daemon.js';
import type { HelperEvent } from '../../shared/domain/detection-event.js';
import type { HelperMetrics } from '../metrics/helper-metrics.js';
import { MetricsTally } from '../metrics/metrics-tally.js';
import type { FirewallHealth } from '../firewall/firewall-owner.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import { messages } from '../reporters/messages.js';
import type { EventStore } from '../store/event-store.js';
import { fleetSettingsOf, FleetSync, type FleetSettings, type FleetStatus } from './fleet-sync.js';

export interface FleetAndMetricsDeps {
  readonly daemon: Daemon;
  readonly store: EventStore;
  readonly log: (message: string) => void;
  readonly clock: () => number;
  /** Clients on the control socket now. */
  readonly rpcConnections: () => number;
  /** The firewall owner's word on the kernel; null without a firewall. */
  readonly firewallHealth?: () => FirewallHealth | null;
}

export class FleetAndMetrics {
  private fleet: FleetSync | null = null;
  private server: MetricsServer | null = null;
  /** Counts since start, kept whether or not the endpoint is on. */
  private readonly tally = new MetricsTally();
  /** The page, made the first time the endpoint is wanted (null until then). */
  private metrics: HelperMetrics | null = null;
  private setCapacity = 1_000_000;

  constructor(private readonly deps: FleetAndMetricsDeps) {}

  /** The metrics page (prom-client loaded now, if it was not). */
  private async page(): Promise<HelperMetrics> {
    if (this.metrics !== null) return this.metrics;
    const { HelperMetrics } = await import('../metrics/helper-metrics.js');
    const deps = this.deps;
    this.metrics ??= new HelperMetrics(
      () => ({
        // What the firewall holds (the ledger its owner keeps the kernel to), not pending decisions.
        blockedAddresses: deps.daemon.heldBlocks().map((block) => block.key),
        setCapacity: this.setCapacity,
        captureFrames: deps.daemon.captureStats().frames,
        captureUndecoded: deps.daemon.captureStats().undecoded,
        rpcConnections: deps.rpcConnections(),
        storeBytes: deps.store.sizeBytes(),
        storeEvents: deps.store.countEvents(),
        fleet: this.fleet?.status() ?? null,
        fleetRefused: this.fleet?.refusedByReason ?? new Map(),
        firewall: deps.firewallHealth?.() ?? null,
        protecting: deps.daemon.protection().protecting,
        scansStarted: deps.daemon.scansStarted,
      }),
      Date.now,
      this.tally,
    );
    return this.metrics;
  }

  async start(config: PortSentryConfig): Promise<void> {
    await this.reconfigure(config);
    // Fleet blocks from before a restart: the fleet's withdrawal still lifts them.
    this.fleet?.adopt(
      this.deps.store
        .blocks()
        .filter((b) => b.fleet !== undefined)
        .map((b) => b.address),
    );
  }

  async reconfigure(config: PortSentryConfig): Promise<void> {
    this.setCapacity = config.blockSetSize;
    const settings = fleetSettingsOf(config);
    if (!sameFleet(this.fleet?.settings ?? null, settings)) {
      const previous = this.fleet;
      await previous?.stop();
      this.fleet = settings === null ? null : this.newFleet(settings);
      if (previous !== null && this.fleet !== null) previous.handOver(this.fleet);
      this.fleet?.start();
    }
    const wanted = config.metricsAddress === '' ? null : { address: config.metricsAddress, port: config.metricsPort };
    if (wanted?.address !== this.server?.address || wanted?.port !== this.server?.port) {
      await this.server?.close();
      this.server = null;
      if (wanted !== null) {
        try {
          const { MetricsServer } = await import('../metrics/metrics-server.js');
          const server = new MetricsServer((await this.page()).registry, wanted.address, wanted.port);
          await server.listen();
          this.server = server;
          this.deps.log(`adminalert: Prometheus metrics on http://${wanted.address.includes(':') ? `[${wanted.address}]` : wanted.address}:${wanted.port}/metrics`);
        } catch (error) {
          this.deps.log(messages.error(`metrics endpoint ${wanted.address}:${wanted.port} unavailable: ${(error as Error).message}`));
        }
      }
    }
  }

  observeProbe(probe: Probe): void {
    this.tally.observeProbe(probe);
  }

  observe(event: HelperEvent): void {
    this.tally.observeEvent(event);
    this.fleet?.observe(event);
  }

  /** The fleet's LAPI addresses, never blocked here (not even by local detection: a spoofed scan). */
  fleetServers(): string[] {
    return this.fleet?.lapiAddressList() ?? [];
  }

  /** The status RPC's fleet and metrics sections (absent when off). */
  status(): { fleet?: FleetStatus; metrics?: { address: string; port: number } } {
    return {
      ...(this.fleet === null ? {} : { fleet: this.fleet.status() }),
      ...(this.server === null ? {} : { metrics: { address: this.server.address, port: this.server.port } }),
    };
  }

  async stop(): Promise<void> {
    await this.fleet?.stop();
    await this.server?.close();
    this.server = null;
  }

  private newFleet(settings: FleetSettings): FleetSync {
    const daemon = this.deps.daemon;
    return new FleetSync(settings, {
      clock: this.deps.clock,
      random: Math.random,
      log: this.deps.log,
      applyBlock: async (address, seconds, origin) => {
        const result = await daemon.applyFleetBlock(address, seconds, origin);
        return result.ok ? { ok: true } : { ok: false, code: result.code, message: result.message };
      },
      liftBlock: async (address, reason) => {
        await daemon.unblock(address, reason);
      },
      lapiAddressesChanged: () => void daemon.refreshProtectedAddresses(),
      scanRecordOf: (source) => daemon.scanRecordOf(source),
    });
  }
}

function sameFleet(a: FleetSettings | null, b: FleetSettings | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
