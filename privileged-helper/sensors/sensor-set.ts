// Every sensor of one run, opened from the settings: tripwire sockets for the classic
// -tcp/-udp modes (busy ports retried), packet capture for the stealth and advanced modes
// and for half-open scans in -tcp, and the half-open tracker that ties the two together.
// Each probe they see goes to `onProbe`; what happens next is the daemon's business.

import type { AddressFamily, Clock, Mode, Probe } from '../../shared/domain/types.js';
import { protocolOfMode } from '../../shared/domain/types.js';
import { parseAddress } from '../../shared/domain/address.js';
import type { WatchRule } from '../capture/capture-detector.js';
import { planCapture } from '../capture/capture-plan.js';
import { HalfOpenTracker } from '../capture/half-open-tracker.js';
import { ProcAcceptQueues } from '../capture/accept-queue.js';
import { ProcListeningPorts } from '../capture/listening-ports.js';
import type { PortSentryConfig } from '../config/config.js';
import { messages } from '../reporters/messages.js';
import { describeSourceProblem, type SourceProblem } from '../capture/source-address.js';
import { openCaptureSensor } from './capture-sensor.js';
import { openTcpTripwires, openUdpTripwires, type TripwireHit, type TripwireSet } from './tripwires.js';
import { tripwireKey, type EarlyTripwires, type TripwireEvent } from './early-tripwires.js';

export interface SensorSetDeps {
  readonly clock: Clock;
  readonly log: (message: string) => void;
  readonly onProbe: (probe: Probe, reply?: (banner: string) => void) => void;
  /** Says whether a repeated warning may be logged again now (the daemon's rate limit). */
  readonly mayWarn: (key: string) => boolean;
  /** Whether an address is one of this host's own (only packets to those are probes). */
  readonly isOwnAddress: (address: string) => boolean;
}

/** How long a SYN to a -tcp tripwire waits for its handshake before it counts as half-open. */
const HALF_OPEN_GRACE_MS = 300;
/**
 * How long a connection reset before its peer could be read waits for capture to name it:
 * tcpdump can lag far behind accept() on a loaded machine, and waiting costs only the delay
 * of a warning (the connection is matched only to a SYN captured before it was accepted).
 */
const ORPHAN_GRACE_MS = 5_000;

export class SensorSet {
  private sensors: Array<{ close(): Promise<void> }> = [];
  private capturing = false;
  /** Tripwire ports that were busy when bound, for retryUnbound. */
  private unbound: Array<{ mode: Mode; port: number; family: AddressFamily }> = [];
  /** Tripwire ports held, per protocol: "port/family" for each socket that is bound. */
  private readonly held = { tcp: new Set<string>(), udp: new Set<string>() };
  private families: readonly AddressFamily[] = [4];
  private readonly halfOpen: HalfOpenTracker;
  /** Cumulative over every capture this set has run (each capture counts from zero). */
  private captureBadSources = 0;
  private captureBadBase = 0;
  private tripwireBadSources = 0;
  private badSourcesLogged = 0;
  /** The mode of each classic tripwire set held, and the ports each mode was opened for (replace()). */
  private readonly modeOf = new Map<TripwireSet, Mode>();
  private readonly classicKeys = new Map<Mode, string>();
  /** Which capture is the current one: an old capture closing during replace() must not clear its flag. */
  private captureGeneration = 0;

  constructor(private readonly deps: SensorSetDeps) {
    const acceptQueues = new ProcAcceptQueues();
    this.halfOpen = new HalfOpenTracker(
      HALF_OPEN_GRACE_MS,
      (probe) => deps.onProbe(probe),
      (port) => {
        if (deps.mayWarn(`unknown-peer ${port}`)) {
          deps.log(messages.warning(`a connection to TCP port ${port} was reset before its source could be read; packet capture (tcpdump) identifies such scanners`));
        }
      },
      undefined,
      // The kernel's accept queues decide "half-open", not which event ran first.
      { acceptQueue: (port) => acceptQueues.queued(port), orphanGraceMs: ORPHAN_GRACE_MS, now: deps.clock },
    );
  }

  /** The running capture's counters (metrics); zero without capture. */
  captureStats: () => { frames: number; undecoded: number } = () => ({ frames: 0, undecoded: 0 });

  /** Tripwires bound at start-up before the rest of the helper; used by the first open(). */
  private early: EarlyTripwires | null = null;

  adoptEarly(early: EarlyTripwires): void {
    this.early = early;
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
    this.modeOf.clear();
    this.classicKeys.clear();
  }

  /**
   * Moves to new modes or ports make-before-break: the new sensors open while the old still
   * run, then the old close. A classic tripwire mode whose ports did not change keeps its
   * sockets (nothing closes, nothing is re-bound); one whose port list changed keeps the
   * sockets of the ports it still watches, binds the added ports, then closes the removed
   * ones. Only where the families change (IPV6 switched) is a port both old and new
   * tripwires bind bound again as soon as the old socket has closed (one close() and one
   * bind(), no timer). Capture-based modes overlap for a moment (two captures; the engine's
   * "already blocked" dedupes a probe both see). Resolves with how many are live.
   */
  async replace(config: PortSentryConfig, modes: readonly Mode[]): Promise<number> {
    const sameFamilies = this.families.length === (config.ipv6 ? 2 : 1);
    const classicOf = (mode: Mode): mode is 'tcp' | 'udp' => mode === 'tcp' || mode === 'udp';
    const kept = new Set(modes.filter((mode) => classicOf(mode) && this.classicKeys.get(mode) === classicKey(config, mode)));
    // Same mode, same families, other ports: its sockets stay, the port list is adjusted.
    const retuned = new Map<Mode, ReadonlySet<number>>();
    for (const mode of modes) {
      if (classicOf(mode) && !kept.has(mode) && sameFamilies && this.classicKeys.has(mode)) retuned.set(mode, new Set(mode === 'tcp' ? config.tcpPorts : config.udpPorts));
    }
    const keep = (sensor: { close(): Promise<void> }) => {
      const mode = this.modeOf.get(sensor as TripwireSet);
      return mode !== undefined && (kept.has(mode) || retuned.has(mode));
    };
    const old = this.sensors.filter((sensor) => !keep(sensor));
    this.sensors = this.sensors.filter(keep);
    this.unbound = this.unbound.filter((item) => kept.has(item.mode) || retuned.get(item.mode)?.has(item.port) === true);
    for (const mode of retuned.keys()) kept.add(mode);
    const handingOver = { tcp: new Set(this.held.tcp), udp: new Set(this.held.udp) };
    for (const protocol of ['tcp', 'udp'] as const) {
      if (![...kept].some((mode) => protocolOfMode(mode) === protocol)) this.held[protocol].clear();
      else handingOver[protocol].clear();
    }
    for (const mode of [...this.classicKeys.keys()]) if (!kept.has(mode)) this.classicKeys.delete(mode);
    this.families = config.ipv6 ? [4, 6] : [4];
    let live: number;
    try {
      live = (await this.openTripwires(config, modes, kept, handingOver, retuned)) + (await this.openCapture(config, modes));
    } finally {
      await Promise.all(old.map((sensor) => sensor.close()));
      for (const sensor of old) this.modeOf.delete(sensor as TripwireSet);
    }
    // The ports a retuned mode no longer watches: closed now that the added ones listen.
    for (const [mode, ports] of retuned) {
      this.classicKeys.set(mode, classicKey(config, mode as 'tcp' | 'udp'));
      await Promise.all([...this.modeOf].filter(([, m]) => m === mode).map(([set]) => set.closeExcept(ports)));
      for (const entry of [...this.held[protocolOfMode(mode)]]) if (!ports.has(Number(entry.split('/')[0]))) this.held[protocolOfMode(mode)].delete(entry);
    }
    // Ports the old sockets held until a moment ago.
    live += await this.retryUnbound(false);
    if (live === 0) throw new Error('no tripwire port could be bound and no packet capture could start');
    return live;
  }

  /** The classic tripwire ports whose sockets we hold in every family (for the kernel trap). */
  boundTripwires(): { tcp: number[]; udp: number[] } {
    const ports = (held: Set<string>) => {
      const all = new Set([...held].map((entry) => Number(entry.split('/')[0])));
      return [...all].filter((port) => this.families.every((family) => held.has(`${port}/${family}`))).sort((a, b) => a - b);
    };
    return { tcp: ports(this.held.tcp), udp: ports(this.held.udp) };
  }

  /**
   * Retries tripwire ports that were busy; each one that binds now is logged as live (unless
   * `announce` is false: a port handed over by replace() was announced already). Resolves
   * with how many bound.
   */
  async retryUnbound(announce = true): Promise<number> {
    if (this.unbound.length === 0) return 0;
    const waiting = this.unbound;
    this.unbound = [];
    let bound = 0;
    for (const item of waiting) {
      const sensor = await this.bindTripwires(item.mode, { ports: [item.port], ipv6: item.family === 6, families: [item.family] });
      if (sensor.bound.length > 0) {
        bound += sensor.bound.length;
        const family = item.family === 6 ? ' (IPv6)' : '';
        if (announce) this.deps.log(protocolOfMode(item.mode) === 'tcp' ? `${messages.listenTcp(item.port)}${family}` : `${messages.listenUdp(item.port)}${family}`);
      } else this.unbound.push(item);
    }
    return bound;
  }

  /** The classic -tcp/-udp modes: real sockets on every tripwire port. */
  private async openTripwires(
    config: PortSentryConfig,
    modes: readonly Mode[],
    kept: ReadonlySet<Mode> = new Set(),
    handingOver: { readonly tcp: ReadonlySet<string>; readonly udp: ReadonlySet<string> } = { tcp: new Set(), udp: new Set() },
    retuned: ReadonlyMap<Mode, ReadonlySet<number>> = new Map(),
  ): Promise<number> {
    let live = 0;
    const early = this.takeEarly(config, modes);
    for (const mode of modes) {
      if (mode !== 'tcp' && mode !== 'udp') continue;
      const tcp = protocolOfMode(mode) === 'tcp';
      if (retuned.has(mode)) {
        // Only the ports added: the rest are held already (replace() closes the removed ones).
        const held = new Set([...this.held[mode]].map((entry) => Number(entry.split('/')[0])));
        const added = (tcp ? config.tcpPorts : config.udpPorts).filter((port) => !held.has(port));
        live += this.held[mode].size;
        if (added.length === 0) continue;
        for (const port of added) this.deps.log(tcp ? messages.listenTcp(port) : messages.listenUdp(port));
        const sensor = await this.bindTripwires(mode, { ports: added, ipv6: config.ipv6 });
        for (const failure of sensor.failed) {
          this.deps.log(
            tcp
              ? messages.cannotBindTcp(failure.port, `${failure.reason}${failure.family === 6 ? ', IPv6' : ''}`)
              : messages.cannotBindUdp(failure.port, `${failure.reason}${failure.family === 6 ? ', IPv6' : ''}`),
          );
          if (failure.reason === 'EADDRINUSE') this.unbound.push({ mode, port: failure.port, family: failure.family });
        }
        live += sensor.bound.length;
        continue;
      }
      if (kept.has(mode)) {
        live += this.held[mode].size;
        continue;
      }
      this.classicKeys.set(mode, classicKey(config, mode));
      const ports = tcp ? config.tcpPorts : config.udpPorts;
      for (const port of ports) this.deps.log(tcp ? messages.listenTcp(port) : messages.listenUdp(port));
      const sensor = early?.sets.find((entry) => entry.mode === mode)?.set ?? (await this.bindTripwires(mode, { ports, ipv6: config.ipv6 }));
      for (const failure of sensor.failed) {
        // Still held by the sockets replace() is about to close: bound again right after.
        if (failure.reason === 'EADDRINUSE' && handingOver[mode].has(`${failure.port}/${failure.family}`)) {
          this.unbound.push({ mode, port: failure.port, family: failure.family });
          continue;
        }
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

  /**
   * The early tripwires, if they were bound for exactly these ports and modes: their queued
   * probes go down the usual path now, in order. Otherwise they are closed (null).
   */
  private takeEarly(config: PortSentryConfig, modes: readonly Mode[]): EarlyTripwires | null {
    const early = this.early;
    this.early = null;
    if (early === null) return null;
    if (early.key !== tripwireKey(config, modes)) {
      void early.close();
      return null;
    }
    // Each mode's set on its own, so replace() can keep one and close the other (the queue
    // early.close() would also empty is empty once attached).
    for (const { mode, set } of early.sets) {
      this.sensors.push(set);
      this.modeOf.set(set, mode);
    }
    // Ports the early sockets hold count as bound tripwires too (the kernel trap's -tcp rule
    // and its never-trap list are built from them).
    for (const { mode, set } of early.sets) for (const { port, family } of set.bound) this.held[protocolOfMode(mode)].add(`${port}/${family}`);
    early.attach((event, replayed) => this.onTripwireEvent(event, replayed));
    if (early.dropped > 0) this.deps.log(messages.warning(`${early.dropped} probes arrived while starting up and could not be queued`));
    return early;
  }

  private onTripwireEvent(event: TripwireEvent, replayed: boolean): void {
    switch (event.type) {
      case 'hit':
        this.onHit(event.hit);
        if (replayed) event.hit.release();
        return;
      case 'unknown-peer':
        this.onUnknownPeer(event.port, event.mode);
        return;
      case 'bad-source':
        this.tripwireBadSources += 1;
        this.onBadSource(event.address, event.problem);
        return;
    }
  }

  private onHit(hit: TripwireHit): void {
    if (hit.probe.kind === 'connect') this.halfOpen.connected(hit.probe.source, hit.probe.port);
    this.deps.onProbe(hit.probe, hit.reply);
  }

  private async bindTripwires(mode: Mode, where: { ports: readonly number[]; ipv6: boolean; families?: readonly AddressFamily[] }): Promise<TripwireSet> {
    const options = {
      ...where,
      clock: this.deps.clock,
      onHit: (hit: TripwireHit) => this.onHit(hit),
      onUnknownPeer: (port: number) => this.onUnknownPeer(port, mode),
      onBadSource: (address: string, problem: SourceProblem) => {
        this.tripwireBadSources += 1;
        this.onBadSource(address, problem);
      },
    };
    const sensor = protocolOfMode(mode) === 'tcp' ? await openTcpTripwires(options, mode) : await openUdpTripwires(options, mode);
    this.sensors.push(sensor);
    this.modeOf.set(sensor, mode);
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
    const generation = ++this.captureGeneration;
    try {
      const sensor = await openCaptureSensor({
        plan,
        ipv6: config.ipv6,
        clock: this.deps.clock,
        // With -stcp running too, a SYN is reported at once, as the stealth mode does; with
        // -tcp alone it waits to see whether the handshake completes (a "Connect").
        onProbe: (probe, wireAt) => (probe.mode === 'tcp' && probe.kind === 'syn' && !modes.includes('stcp') ? this.halfOpen.synSeen(probe, wireAt) : this.deps.onProbe(probe)),
        isOwnAddress: this.deps.isOwnAddress,
        // A -tcp tripwire peer's ACK: its handshake completed (a connect, not a SYN scan).
        onPacket: (packet) => {
          if (packet.protocol === 'tcp' && (packet.tcpFlags & 0x16) === 0x10) this.halfOpen.ackSeen(packet.source, packet.destinationPort);
        },
        onBadSources: (stats) => {
          this.captureBadSources = this.captureBadBase + stats.badSource;
          this.onBadSource(stats.lastBadSource ?? '?', (stats.lastProblem ?? 'reserved') as SourceProblem);
        },
        onFailure: (why) => {
          if (generation === this.captureGeneration) this.capturing = false;
          this.deps.log(messages.error(`${why}; stealth detection has stopped (${modes.map((m) => `-${m}`).join(' ')})`));
        },
      });
      this.capturing = true;
      this.captureStats = () => sensor.stats();
      this.sensors.push({
        close: async () => {
          if (generation === this.captureGeneration) this.capturing = false;
          this.captureBadBase += sensor.stats().badSource;
          this.captureBadSources = this.captureBadBase;
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

  /**
   * Packets from sources no remote host can have never become probes; they are counted and
   * summarised in the log at most once a minute (a flood of them is one line, not thousands).
   */
  private onBadSource(address: string, problem: SourceProblem): void {
    if (!this.deps.mayWarn('bad-source')) return;
    const total = this.badSourceCount;
    const dropped = total - this.badSourcesLogged;
    this.badSourcesLogged = total;
    this.deps.log(
      messages.warning(`dropped ${dropped} packet(s) from impossible source addresses (${total} since start; latest ${address}, ${describeSourceProblem(problem)}); such sources are never blocked`),
    );
  }

  /** Packets dropped for an impossible source since start (capture and tripwires). */
  get badSourceCount(): number {
    return this.captureBadSources + this.tripwireBadSources;
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

/** What a classic tripwire mode was opened for: replace() keeps its sockets while this is unchanged. */
function classicKey(config: PortSentryConfig, mode: 'tcp' | 'udp'): string {
  return JSON.stringify([mode === 'tcp' ? config.tcpPorts : config.udpPorts, config.ipv6]);
}

/** The original's start-up lines for the stealth and advanced modes. */
function describeCaptureRules(rules: readonly WatchRule[], listening: ProcListeningPorts): string[] {
  const lines: string[] = [];
  for (const rule of rules) {
    if (rule.mode === 'tcp') continue;
    if (rule.ports.kind === 'list') {
      for (const port of rule.ports.ports) {
        lines.push(
          listening.isListening(rule.protocol, port) ? messages.error(`Socket ${port} is in use and will not be monitored. Attempting to continue`) : messages.stealthListen(rule.protocol, port),
        );
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
