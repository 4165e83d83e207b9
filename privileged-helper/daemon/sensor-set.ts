// Every sensor of one run, opened from the settings: tripwire sockets for the classic
// -tcp/-udp modes (busy ports retried), packet capture for the stealth and advanced modes
// and for half-open scans in -tcp, and the half-open tracker that ties the two together.
// Each probe they see goes to `onProbe`; what happens next is the daemon's business.

import type { AddressFamily, Clock, Mode, Probe } from '../core/types.js';
import { protocolOfMode } from '../core/types.js';
import { parseAddress } from '../core/address.js';
import type { WatchRule } from '../capture/capture-detector.js';
import { planCapture } from '../capture/capture-plan.js';
import { HalfOpenTracker } from '../capture/half-open-tracker.js';
import { ProcListeningPorts } from '../capture/listening-ports.js';
import type { PortSentryConfig } from '../config/config.js';
import { messages } from '../reporters/messages.js';
import { openCaptureSensor } from '../sensors/capture-sensor.js';
import { openTcpTripwires, openUdpTripwires, type TripwireHit, type TripwireSet } from '../sensors/tripwires.js';

export interface SensorSetDeps {
  readonly clock: Clock;
  readonly log: (message: string) => void;
  readonly onProbe: (probe: Probe, reply?: (banner: string) => void) => void;
  /** Says whether a repeated warning may be logged again now (the daemon's rate limit). */
  readonly mayWarn: (key: string) => boolean;
}

/** How long a SYN to a -tcp tripwire waits for its handshake before it counts as half-open. */
const HALF_OPEN_GRACE_MS = 300;

export class SensorSet {
  private sensors: Array<{ close(): Promise<void> }> = [];
  private capturing = false;
  /** Tripwire ports that were busy when bound, for retryUnbound. */
  private unbound: Array<{ mode: Mode; port: number; family: AddressFamily }> = [];
  /** Tripwire ports held, per protocol: "port/family" for each socket that is bound. */
  private readonly held = { tcp: new Set<string>(), udp: new Set<string>() };
  private families: readonly AddressFamily[] = [4];
  private readonly halfOpen: HalfOpenTracker;

  constructor(private readonly deps: SensorSetDeps) {
    this.halfOpen = new HalfOpenTracker(
      HALF_OPEN_GRACE_MS,
      (probe) => deps.onProbe(probe),
      (port) => {
        if (deps.mayWarn(`unknown-peer ${port}`)) {
          deps.log(messages.warning(`a connection to TCP port ${port} was reset before its source could be read; packet capture (tcpdump) identifies such scanners`));
        }
      },
    );
  }

  /** True while packet capture runs. */
  get captureActive(): boolean {
    return this.capturing;
  }

  /** Opens every sensor the modes ask for; resolves with how many are live. Throws if none. */
  async open(config: PortSentryConfig, modes: readonly Mode[]): Promise<number> {
    this.families = config.ipv6 ? [4, 6] : [4];
    const live = (await this.openTripwires(config, modes)) + (await this.openCapture(config, modes));
    if (live === 0) throw new Error('no tripwire port could be bound and no packet capture could start');
    return live;
  }

  async close(): Promise<void> {
    this.halfOpen.clear();
    await Promise.all(this.sensors.map((sensor) => sensor.close()));
    this.sensors = [];
    this.unbound = [];
    this.held.tcp.clear();
    this.held.udp.clear();
  }

  /** The classic tripwire ports whose sockets we hold in every family (for the kernel trap). */
  boundTripwires(): { tcp: number[]; udp: number[] } {
    const ports = (held: Set<string>) => {
      const all = new Set([...held].map((entry) => Number(entry.split('/')[0])));
      return [...all].filter((port) => this.families.every((family) => held.has(`${port}/${family}`))).sort((a, b) => a - b);
    };
    return { tcp: ports(this.held.tcp), udp: ports(this.held.udp) };
  }

  /** Retries tripwire ports that were busy; each one that binds now is logged as live. */
  async retryUnbound(): Promise<void> {
    if (this.unbound.length === 0) return;
    const waiting = this.unbound;
    this.unbound = [];
    for (const item of waiting) {
      const sensor = await this.bindTripwires(item.mode, { ports: [item.port], ipv6: item.family === 6, families: [item.family] });
      if (sensor.bound.length > 0) {
        const family = item.family === 6 ? ' (IPv6)' : '';
        this.deps.log(protocolOfMode(item.mode) === 'tcp' ? `${messages.listenTcp(item.port)}${family}` : `${messages.listenUdp(item.port)}${family}`);
      } else this.unbound.push(item);
    }
  }

  /** The classic -tcp/-udp modes: real sockets on every tripwire port. */
  private async openTripwires(config: PortSentryConfig, modes: readonly Mode[]): Promise<number> {
    let live = 0;
    for (const mode of modes) {
      if (mode !== 'tcp' && mode !== 'udp') continue;
      const tcp = protocolOfMode(mode) === 'tcp';
      const ports = tcp ? config.tcpPorts : config.udpPorts;
      for (const port of ports) this.deps.log(tcp ? messages.listenTcp(port) : messages.listenUdp(port));
      const sensor = await this.bindTripwires(mode, { ports, ipv6: config.ipv6 });
      for (const failure of sensor.failed) {
        const why = `${failure.reason}${failure.family === 6 ? ', IPv6' : ''}`;
        this.deps.log(tcp ? messages.cannotBindTcp(failure.port, why) : messages.cannotBindUdp(failure.port, why));
        // Busy now (a service, or a socket of ours still closing after a restart): try again later.
        if (failure.reason === 'EADDRINUSE') this.unbound.push({ mode, port: failure.port, family: failure.family });
      }
      if (sensor.bound.length === 0) this.deps.log(messages.cannotBindAny(tcp ? 'TCP' : 'UDP'));
      live += sensor.bound.length;
    }
    return live;
  }

  private async bindTripwires(mode: Mode, where: { ports: readonly number[]; ipv6: boolean; families?: readonly AddressFamily[] }): Promise<TripwireSet> {
    const options = {
      ...where,
      clock: this.deps.clock,
      onHit: (hit: TripwireHit) => {
        if (hit.probe.kind === 'connect') this.halfOpen.connected(hit.probe.source, hit.probe.port);
        this.deps.onProbe(hit.probe, hit.reply);
      },
      onUnknownPeer: (port: number) => this.onUnknownPeer(port, mode),
    };
    const sensor = protocolOfMode(mode) === 'tcp' ? await openTcpTripwires(options, mode) : await openUdpTripwires(options, mode);
    this.sensors.push(sensor);
    for (const { port, family } of sensor.bound) this.held[protocolOfMode(mode)].add(`${port}/${family}`);
    return sensor;
  }

  /**
   * Stealth and advanced modes, and half-open SYN scans in the classic -tcp mode, through
   * packet capture. When capture cannot start, the tripwire modes keep running and the log
   * says exactly what is not watched.
   */
  private async openCapture(config: PortSentryConfig, modes: readonly Mode[]): Promise<number> {
    const plan = planCapture(config, modes);
    if (plan === null) return 0;
    for (const line of describeCaptureRules(plan.rules, new ProcListeningPorts())) this.deps.log(line);
    try {
      const sensor = await openCaptureSensor({
        plan,
        ipv6: config.ipv6,
        clock: this.deps.clock,
        // With -stcp running too, a SYN is reported at once, as the stealth mode does; with
        // -tcp alone it waits to see whether the handshake completes (a "Connect").
        onProbe: (probe) =>
          probe.mode === 'tcp' && probe.kind === 'syn' && !modes.includes('stcp') ? this.halfOpen.synSeen(probe) : this.deps.onProbe(probe),
        onFailure: (why) => {
          this.capturing = false;
          this.deps.log(messages.error(`${why}; stealth detection has stopped (${modes.map((m) => `-${m}`).join(' ')})`));
        },
      });
      this.capturing = true;
      this.sensors.push({
        close: async () => {
          this.capturing = false;
          await sensor.close();
        },
      });
      return 1;
    } catch (error) {
      const why = (error as Error).message;
      const lost = plan.requiredBy.length > 0 ? `modes ${plan.requiredBy.map((m) => `-${m}`).join(' ')} cannot run` : 'the -tcp mode will not see half-open (SYN) scans';
      this.deps.log(messages.error(`packet capture is unavailable: ${why}; ${lost}`));
      return 0;
    }
  }

  /** A connection reset before we could read its peer: capture's record of the SYN names it. */
  private onUnknownPeer(port: number, mode: Mode): void {
    const source = this.halfOpen.claimUnknownPeer(port);
    if (source === null) return; // reported when its SYN arrives, or warned about after the grace
    const parsed = parseAddress(source);
    if (parsed === null) return;
    this.deps.onProbe({ source: parsed.address, family: parsed.family, port, protocol: 'tcp', kind: 'connect', mode, at: this.deps.clock() });
  }
}

/** The original's start-up lines for the stealth and advanced modes. */
function describeCaptureRules(rules: readonly WatchRule[], listening: ProcListeningPorts): string[] {
  const lines: string[] = [];
  for (const rule of rules) {
    if (rule.mode === 'tcp') continue;
    if (rule.ports.kind === 'list') {
      for (const port of rule.ports.ports) {
        lines.push(listening.isListening(rule.protocol, port)
          ? messages.error(`Socket ${port} is in use and will not be monitored. Attempting to continue`)
          : messages.stealthListen(rule.protocol, port));
      }
      continue;
    }
    lines.push(messages.advancedMonitor(rule.ports.limit));
    if (rule.exclude.size === 0) lines.push(messages.advancedExcludeNone());
    for (const port of rule.exclude) lines.push(messages.advancedExclude(port));
    for (let port = 1; port <= rule.ports.limit; port += 1) {
      if (!rule.exclude.has(port) && listening.isListening(rule.protocol, port)) lines.push(messages.advancedIgnoredListening(rule.protocol, port));
    }
  }
  return lines;
}
