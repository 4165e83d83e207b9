// Every sensor of one run, opened from the settings: tripwire sockets for the classic
// -tcp/-udp modes (a port another program holds is left to it), packet capture for the
// stealth and advanced modes and for half-open scans in -tcp, and the half-open tracker that
// ties the two together. A live change of settings leaves them as a fresh start would.
// Each probe they see goes to `onProbe`; what happens next is the daemon's business.

import type { AddressFamily, Clock, Mode, Probe } from '../../shared/domain/types.js';
import { parseAddress } from '../../shared/domain/address.js';
import type { WatchRule } from '../capture/capture-detector.js';
import { buildCaptureFilter } from '../capture/capture-filter.js';
import { planCapture, type CapturePlan } from '../capture/capture-plan.js';
import { HalfOpenTracker } from '../capture/half-open-tracker.js';
import { ProcAcceptQueues } from '../capture/accept-queue.js';
import { ownSocketInodes, ProcListeningPorts, type ListeningPorts } from '../capture/listening-ports.js';
import type { PortSentryConfig } from '../config/config.js';
import { messages } from '../reporters/messages.js';
import { describeSourceProblem, type SourceProblem } from '../capture/source-address.js';
import { openCaptureSensor, type CaptureSensorOptions } from './capture-sensor.js';
import { nflogGroupFor, type NflogCapturePlan } from '../capture/nflog-capture.js';
import { openTcpTripwires, openUdpTripwires, type TripwireHit, type TripwireSet } from './tripwires.js';
import type { Discovery } from '../engine/host-discovery.js';
import { tripwireKey, type EarlyTripwires, type TripwireEvent } from './early-tripwires.js';

export interface SensorSetDeps {
  readonly clock: Clock;
  readonly log: (message: string) => void;
  readonly onProbe: (probe: Probe, reply?: (banner: string) => void) => void;
  /** A host discovery request capture saw (engine/host-discovery.ts). */
  readonly onDiscovery?: (discovery: Discovery) => void;
  /** Says whether a repeated warning may be logged again now (the daemon's rate limit). */
  readonly mayWarn: (key: string) => boolean;
  /** Whether an address is one of this host's own (only packets to those are probes). */
  readonly isOwnAddress: (address: string) => boolean;
  /**
   * Installs (or removes, null) the nftables rules feeding capture from netfilter's log, in
   * our table through the firewall owner; absent, or where the block backend is not nftables,
   * capture reads every interface instead.
   */
  readonly kernelCapture?: (plan: NflogCapturePlan | null) => Promise<void>;
}

/** How long a SYN to a -tcp tripwire waits for its handshake before it counts as half-open. */
const HALF_OPEN_GRACE_MS = 300;
/**
 * How long a connection reset before its peer could be read waits for capture to name it:
 * tcpdump can lag far behind accept() on a loaded machine, and waiting costs only the delay
 * of a warning (the connection is matched only to a SYN captured before it was accepted).
 */
const ORPHAN_GRACE_MS = 5_000;

/** The classic modes, whose tripwires are sockets of our own. */
type Classic = 'tcp' | 'udp';
const CLASSIC: readonly Classic[] = ['tcp', 'udp'];

/** Why a configured tripwire port is not watched, when another program holds it. */
export const IN_USE = 'in use by another program';

export class SensorSet {
  /** The tripwire sockets of each classic mode running, as sets (a live change adds sets). */
  private readonly tripwires = new Map<Classic, TripwireSet[]>();
  /** Every tripwire set still open, current or closing: its sockets are never "a service". */
  private readonly openSets = new Map<TripwireSet, Classic>();
  /** Configured tripwire ports of each classic mode that are not watched, with why. */
  private readonly unwatched = new Map<Classic, ReadonlyMap<number, string>>();
  private capture: { readonly key: string; readonly nflogGroup: number | null; close(): Promise<void> } | null = null;
  private capturing = false;
  private families: readonly AddressFamily[] = [4];
  private readonly halfOpen: HalfOpenTracker;
  /** Who listens where (/proc/net), our own tripwire sockets left out. */
  private readonly listening = new ProcListeningPorts(undefined, undefined, undefined, {
    ports: () => {
      const held = { tcp: new Set<number>(), udp: new Set<number>() };
      for (const [set, mode] of this.openSets) for (const { port } of set.bound) held[mode].add(port);
      return held;
    },
    inodes: ownSocketInodes,
  });
  /** Cumulative over every capture this set has run (each capture counts from zero). */
  private captureBadSources = 0;
  private captureBadBase = 0;
  private tripwireBadSources = 0;
  private badSourcesLogged = 0;
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
    const early = await this.takeEarly(config, modes);
    let live = 0;
    for (const mode of classicModes(modes)) live += await this.openTripwires(config, mode, early?.sets.find((entry) => entry.mode === mode)?.set);
    live += await this.openCapture(config, modes);
    if (live === 0) throw new Error('no tripwire port could be bound and no packet capture could start');
    return live;
  }

  async close(): Promise<void> {
    this.halfOpen.clear();
    const sets = [...this.openSets.keys()];
    const capture = this.capture;
    this.tripwires.clear();
    this.unwatched.clear();
    this.capture = null;
    await Promise.all([...sets.map((set) => this.closeSet(set)), capture?.close()]);
    if (capture?.nflogGroup !== null && capture?.nflogGroup !== undefined) await this.removeCaptureRules();
  }

  /** The NFLOG group capture reads (the kernel trap logs to it too); null when reading interfaces. */
  get nflogGroup(): number | null {
    return this.capturing ? (this.capture?.nflogGroup ?? null) : null;
  }

  private currentNflogGroup(): number | null {
    return this.capture?.nflogGroup ?? null;
  }

  private async removeCaptureRules(): Promise<void> {
    await this.deps.kernelCapture?.(null).catch((error: unknown) => this.deps.log(messages.warning(`the capture rules could not be removed: ${(error as Error).message}`)));
  }

  /**
   * Moves to new settings so that the sensors end up exactly as a fresh start with them
   * would open them, make-before-break: the new sensors open while the old still run, then
   * the old close. A classic tripwire socket (port, family) that the new settings still want
   * stays open (nothing closes, nothing is re-bound); the ones wanted and not held are bound
   * (unless another program holds the port, see openTripwires); the ones no longer wanted
   * close once the rest is up. Packet capture is restarted only when what it watches
   * changed; otherwise the running tcpdump stays. Resolves with how many sensors are live.
   */
  async replace(config: PortSentryConfig, modes: readonly Mode[]): Promise<number> {
    this.families = config.ipv6 ? [4, 6] : [4];
    const leaving = [...this.tripwires.keys()].filter((mode) => !modes.includes(mode));
    let live = 0;
    for (const mode of classicModes(modes)) live += await this.openTripwires(config, mode);
    live += await this.openCapture(config, modes);
    // The modes that stopped: their sockets close only now that the new sensors run.
    const closing = leaving.flatMap((mode) => this.tripwires.get(mode) ?? []);
    for (const mode of leaving) {
      this.tripwires.delete(mode);
      this.unwatched.delete(mode);
    }
    await Promise.all(closing.map((set) => this.closeSet(set)));
    if (live === 0) throw new Error('no tripwire port could be bound and no packet capture could start');
    return live;
  }

  /** The classic tripwire ports whose sockets we hold in every family (for the kernel trap). */
  boundTripwires(): { tcp: number[]; udp: number[] } {
    const ports = (mode: Classic) => {
      const held = new Set((this.tripwires.get(mode) ?? []).flatMap((set) => set.bound.map(({ port, family }) => `${port}/${family}`)));
      const all = new Set([...held].map((entry) => Number(entry.split('/')[0])));
      return [...all].filter((port) => this.families.every((family) => held.has(`${port}/${family}`))).sort((a, b) => a - b);
    };
    return { tcp: ports('tcp'), udp: ports('udp') };
  }

  /** Configured tripwire ports that are not watched because another program holds them. */
  portsInUseByOthers(): { tcp: number[]; udp: number[] } {
    const ports = (mode: Classic) =>
      [...(this.unwatched.get(mode) ?? new Map<number, string>())]
        .filter(([, why]) => why === IN_USE)
        .map(([port]) => port)
        .sort((a, b) => a - b);
    return { tcp: ports('tcp'), udp: ports('udp') };
  }

  /**
   * One classic mode's tripwires, brought to what the config asks for. A port another
   * program holds (in any family: a listener seen in /proc/net, or a bind that fails with
   * EADDRINUSE) belongs to it: it is reported once and held in no family, so the program
   * keeps its port, whatever family its clients use, and gets it back when it restarts. It
   * is never retried behind its back; the next start, reload or change of settings asks
   * again. Resolves with how many of the mode's sockets are live.
   */
  private async openTripwires(config: PortSentryConfig, mode: Classic, early?: TripwireSet): Promise<number> {
    const tcp = mode === 'tcp';
    const ports = tcp ? config.tcpPorts : config.udpPorts;
    const before = this.unwatched.get(mode) ?? new Map<number, string>();
    const sets = [...(this.tripwires.get(mode) ?? [])];
    const held = new Set(sets.flatMap((set) => set.bound.map(({ port, family }) => `${port}/${family}`)));
    const watchedBefore = new Set(sets.flatMap((set) => set.bound.map(({ port }) => port)));
    // Announced before binding, as the original does, for each port newly asked for.
    for (const port of ports) if (!watchedBefore.has(port) && !before.has(port)) this.deps.log(tcp ? messages.listenTcp(port) : messages.listenUdp(port));
    if (early !== undefined) this.register(mode, early, sets);
    this.listening.refresh();
    const othersSeen = ports.filter((port) => this.listening.isListening(mode, port));
    const fresh: TripwireSet[] = early === undefined ? [] : [early];
    if (early === undefined) {
      for (const family of this.families) {
        const wanted = ports.filter((port) => !held.has(`${port}/${family}`) && !othersSeen.includes(port));
        if (wanted.length > 0) fresh.push(await this.bindTripwires(mode, wanted, family, sets));
      }
    }
    const failed = fresh.flatMap((set) => set.failed);
    const others = new Set([...othersSeen, ...failed.filter((failure) => failure.reason === 'EADDRINUSE').map((failure) => failure.port)]);
    const unwatched = new Map<number, string>([...others].map((port) => [port, IN_USE]));
    for (const failure of failed) if (!unwatched.has(failure.port)) unwatched.set(failure.port, `${failure.reason}${failure.family === 6 ? ', IPv6' : ''}`);
    for (const [port, why] of unwatched) {
      if (before.get(port) === why) continue; // said already
      const text = why === IN_USE ? `port ${port} is ${IN_USE} and is not a tripwire` : why;
      this.deps.log(tcp ? messages.cannotBindTcp(port, text) : messages.cannotBindUdp(port, text));
    }
    this.unwatched.set(mode, unwatched);
    // A port left to another program before, free now: a tripwire from now on.
    for (const port of before.keys()) if (ports.includes(port) && !unwatched.has(port)) this.deps.log(tcp ? messages.listenTcp(port) : messages.listenUdp(port));
    // Whatever is held and not wanted (removed ports, a family switched off, the other
    // family of a port another program holds) closes now: the added ports are bound already.
    const wanted = new Set(ports.filter((port) => !others.has(port)));
    await Promise.all(sets.map((set) => set.closeExcept((port, family) => wanted.has(port) && this.families.includes(family))));
    for (const set of sets.filter((s) => s.bound.length === 0)) await this.closeSet(set);
    const remaining = sets.filter((set) => set.bound.length > 0);
    this.tripwires.set(mode, remaining);
    const live = remaining.reduce((sum, set) => sum + set.bound.length, 0);
    if (live === 0 && watchedBefore.size === 0 && ports.length > 0) this.deps.log(messages.cannotBindAny(tcp ? 'TCP' : 'UDP'));
    return live;
  }

  private register(mode: Classic, set: TripwireSet, sets: TripwireSet[]): void {
    sets.push(set);
    this.openSets.set(set, mode);
  }

  private async closeSet(set: TripwireSet): Promise<void> {
    await set.close();
    this.openSets.delete(set);
  }

  /**
   * The early tripwires, if they were bound for exactly these ports and modes: their queued
   * probes go down the usual path now, in order. Otherwise they are closed (null), and
   * closed before anything is bound again: a port they still held would look taken.
   */
  private async takeEarly(config: PortSentryConfig, modes: readonly Mode[]): Promise<EarlyTripwires | null> {
    const early = this.early;
    this.early = null;
    if (early === null) return null;
    if (early.key !== tripwireKey(config, modes)) {
      await early.close();
      return null;
    }
    // Each mode's set goes to openTripwires on its own, so a later change can keep one and
    // close the other (the queue early.close() would also empty is empty once attached).
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

  private async bindTripwires(mode: Classic, ports: readonly number[], family: AddressFamily, sets: TripwireSet[]): Promise<TripwireSet> {
    const options = {
      ports,
      ipv6: family === 6,
      families: [family],
      clock: this.deps.clock,
      onHit: (hit: TripwireHit) => this.onHit(hit),
      onUnknownPeer: (port: number) => this.onUnknownPeer(port, mode),
      onBadSource: (address: string, problem: SourceProblem) => {
        this.tripwireBadSources += 1;
        this.onBadSource(address, problem);
      },
    };
    const set = mode === 'tcp' ? await openTcpTripwires(options, mode) : await openUdpTripwires(options, mode);
    this.register(mode, set, sets);
    return set;
  }

  /**
   * Stealth and advanced modes, and half-open SYN scans in the classic -tcp mode, through
   * packet capture. When capture cannot start, the tripwire modes keep running and the log
   * says exactly what is not watched.
   */
  private async openCapture(config: PortSentryConfig, modes: readonly Mode[]): Promise<number> {
    const plan = planCapture(config, modes, new Set(this.portsInUseByOthers().tcp));
    const previous = this.capture;
    const key = plan === null ? '' : captureKey(plan, config, modes);
    // Watching the same packets the same way: the running tcpdump is what a fresh start would run.
    if (previous !== null && previous.key === key && this.capturing) return 1;
    this.capture = null;
    // Make-before-break: the old capture stops once the new one runs (or could not start).
    const live = plan === null ? 0 : await this.startCapture(plan, key, config, modes);
    await previous?.close();
    // Rules feeding a group nobody reads any more go: the new capture reads an interface, or none runs.
    if (previous?.nflogGroup !== null && previous?.nflogGroup !== undefined && this.currentNflogGroup() === null) await this.removeCaptureRules();
    return live;
  }

  private async startCapture(plan: CapturePlan, key: string, config: PortSentryConfig, modes: readonly Mode[]): Promise<number> {
    this.listening.refresh();
    for (const line of describeCaptureRules(plan.rules, this.listening)) this.deps.log(line);
    const generation = ++this.captureGeneration;
    try {
      const sensor = await this.openSensor(config, generation, {
        plan,
        ipv6: config.ipv6,
        clock: this.deps.clock,
        listening: this.listening,
        // With -stcp running too, a SYN is reported at once, as the stealth mode does; with
        // -tcp alone it waits to see whether the handshake completes (a "Connect").
        onProbe: (probe, wireAt) => (probe.mode === 'tcp' && probe.kind === 'syn' && !modes.includes('stcp') ? this.halfOpen.synSeen(probe, wireAt) : this.deps.onProbe(probe)),
        isOwnAddress: this.deps.isOwnAddress,
        ...(this.deps.onDiscovery !== undefined ? { onDiscovery: this.deps.onDiscovery } : {}),
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
      this.capture = {
        key,
        nflogGroup: sensor.nflogGroup,
        close: async () => {
          if (generation === this.captureGeneration) this.capturing = false;
          this.captureBadBase += sensor.stats().badSource;
          this.captureBadSources = this.captureBadBase;
          await sensor.close();
        },
      };
      return 1;
    } catch (error) {
      if (generation === this.captureGeneration) this.capturing = false;
      const why = (error as Error).message;
      const lost = plan.requiredBy.length > 0 ? `modes ${plan.requiredBy.map((m) => `-${m}`).join(' ')} cannot run` : 'the -tcp mode will not see half-open (SYN) scans';
      this.deps.log(messages.error(`packet capture is unavailable: ${why}; ${lost}`));
      return 0;
    }
  }

  /**
   * From netfilter's log where our nftables table is there (a blocked source's packets never
   * reach user space; fragments arrive reassembled), else, or if that cannot start, from
   * every interface through a BPF filter (pf, Windows, no nftables).
   */
  private async openSensor(config: PortSentryConfig, generation: number, options: CaptureSensorOptions) {
    const install = this.deps.kernelCapture;
    if (install !== undefined && config.blockBackend === 'nftables') {
      try {
        const nflog = { group: nflogGroupFor(config.nftTable, generation), repeats: config.repeatLog === 'every', discovery: config.hostDiscovery !== 'off', install };
        return await openCaptureSensor({ ...options, nflog });
      } catch (error) {
        this.deps.log(messages.warning(`packet capture from netfilter's log could not start (${(error as Error).message}); capturing from every interface instead`));
      }
    }
    return openCaptureSensor(options);
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

function classicModes(modes: readonly Mode[]): Classic[] {
  return CLASSIC.filter((mode) => modes.includes(mode));
}

/**
 * What a capture watches and how it reports it: a capture with the same key is the same
 * capture. REPEAT_LOG is in it: "every" installs a chain of its own before the drop
 * (nflog-capture.ts), so a live change must reinstall the rules as a fresh start would.
 */
function captureKey(plan: CapturePlan, config: PortSentryConfig, modes: readonly Mode[]): string {
  const rules = plan.rules.map((rule) => ({ ...rule, exclude: [...rule.exclude] }));
  return JSON.stringify([buildCaptureFilter(plan.watch), rules, plan.requiredBy, config.ipv6, modes, config.repeatLog, config.hostDiscovery === 'off']);
}

/** The original's start-up lines for the stealth and advanced modes. */
function describeCaptureRules(rules: readonly WatchRule[], listening: ListeningPorts): string[] {
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
    // 1.2's list of ignored ports: those in use, then the manual exclusions (a port both in
    // use and excluded is named twice, as 1.2 did); logwatch reports these lines.
    for (let port = 1; port <= rule.ports.limit; port += 1) {
      if (listening.isListening(rule.protocol, port)) lines.push(messages.advancedIgnoredListening(rule.protocol, port));
    }
    for (const port of rule.exclude) lines.push(messages.advancedIgnoredListening(rule.protocol, port));
  }
  return lines;
}
