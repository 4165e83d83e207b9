// The helper's main path, top to bottom: a sensor reports a probe -> the engine decides ->
// the responder blocks -> reporters log it (syslog, history files, event subscribers).
// Everything with side effects arrives through DaemonDeps, so this file reads as the
// story of one packet.

import { lookupService } from 'node:dns/promises';
import { probeTarget, type AddressFamily, type Clock, type Mode, type Probe } from '../../shared/domain/types.js';
import type { PortSentryConfig } from '../config/config.js';
import type { IgnoreEntry } from '../config/ignore-list.js';
import { coversFamily } from '../config/operator-bounds.js';
import { describeNeverBlockReason, NeverBlock, type HostAddresses } from '../never-block/never-block.js';
import { DetectionEngine, type EngineOptions } from '../engine/engine.js';
import { scoreOptions } from '../engine/scan-score.js';
import { repeatBlockSeconds } from '../engine/repeat-offender.js';
import { ScanRecords } from '../engine/scan-records.js';
import { judgeDiscovery, sweepWords, type Discovery } from '../engine/host-discovery.js';
import type { ScanOutcome, ScanRecord } from '../../shared/domain/scan-record.js';
import type { HistoryWriter } from '../reporters/history-file.js';
import { messages } from '../reporters/messages.js';
import { cleanText } from '../reporters/clean-text.js';
import { planCapture } from '../capture/capture-plan.js';
import { planTrap, type TrapPlan } from '../firewall/kernel-trap.js';
import { TrapController } from '../firewall/trap-controller.js';
import type { NflogCapturePlan } from '../capture/nflog-capture.js';
import type { BlockChangeEvent, DetectionEvent, FleetOrigin, HelperEvent } from '../../shared/domain/detection-event.js';
import { parseAddress } from '../../shared/domain/address.js';
import { aggregateTarget, hostTarget, parseBlockTarget, protectedOverlap, type BlockTarget } from '../../shared/domain/block-target.js';
import { carryOut, type ResponseActions } from '../responders/responder.js';
import { planBlocks, responsePlan } from '../responders/response-plan.js';
import { SensorSet } from '../sensors/sensor-set.js';
import type { EarlyTripwires } from '../sensors/early-tripwires.js';
import { BlockLedger } from '../firewall/block-ledger.js';

export interface DaemonDeps {
  readonly clock: Clock;
  readonly log: (message: string) => void;
  actions: ResponseActions;
  readonly history: HistoryWriter;
  /** The host's own addresses, gateways and resolvers: never blocked. Re-read when they may have changed. */
  readonly hostAddresses: () => Promise<HostAddresses>;
  /**
   * Calls `onChange` when the host's addresses, routes or resolvers may have changed
   * (never-block/host-watch.ts: netlink and inotify); absent: they are re-read every 10 s.
   */
  readonly watchHost?: (onChange: () => void) => { stop(): void };
  /** Told when pausing or resuming (by hand or at a timed pause's end) may have changed `protection()`. */
  readonly protectionChanged?: () => void;
  /** Installs (plan) or disarms (null) the kernel trap; absent when the firewall cannot. */
  readonly kernelTrap?: (plan: TrapPlan | null) => Promise<void>;
  /** Installs (plan) or removes (null) the rules feeding capture from netfilter's log; absent: capture reads interfaces. */
  readonly kernelCapture?: (plan: NflogCapturePlan | null) => Promise<void>;
  /** Reverse lookup for RESOLVE_HOST; null when there is no name. */
  readonly resolveName?: (address: string) => Promise<string | null>;
  /** Sees every probe before the engine (metrics); must not throw or block. */
  readonly observeProbe?: (probe: Probe) => void;
  /** What the firewall holds, shared with the firewall owner (run-daemon makes one for the helper's life). */
  readonly ledger?: BlockLedger;
  /** Writes the scan records that changed (the store) and pushes them to subscribers; at most once a second, each record at most once a call. */
  readonly recordScans?: (records: readonly ScanRecord[]) => void;
  /** How many times detection blocked this address before (the store's history); absent: 0. */
  readonly earlierBlocks?: (address: string) => number;
}

export interface DaemonSettings {
  readonly config: PortSentryConfig;
  readonly ignore: readonly IgnoreEntry[];
  readonly modes: readonly Mode[];
  /** Whether the modes came from the command line's flags (which win) or the config's MODES. */
  readonly modesFrom?: 'command-line' | 'config';
}

/** How often repeated "ignored"/"already blocked" lines for one source may be logged (REPEAT_LOG="minute" for the latter). */
const QUIET_REPEAT_MS = 60_000;
const MAX_QUIET_ENTRIES = 4096;
const MAX_HELD_REPEATS = 1024;
const LOCAL_ADDRESS_REFRESH_MS = 10_000;
const EXPIRY_CHECK_MS = 1_000;
/** Scan records written and pushed a tick at most; more changed ones wait for the next tick. */
const MAX_SCAN_RECORDS_PER_TICK = 1000;

export class Daemon {
  private settings: DaemonSettings;
  private readonly engine: DetectionEngine;
  /** One record per scan, beside the per-probe events (engine/scan-records.ts). */
  private readonly scans: ScanRecords;
  private readonly sensors: SensorSet;
  private readonly listeners = new Set<(event: HelperEvent) => void>();
  private paused = false;
  /** When a timed pause ends by itself (checked with the expiry tick); null = until resumed. */
  private pauseEndsAt: number | null = null;
  private readonly lastQuietLog = new Map<string, number>();
  private host: HostAddresses = { own: [] };
  /** This host's own addresses: only packets to one of them are probes. */
  private ownAddresses = new Set<string>();
  private hostKey = '';
  private timers: NodeJS.Timeout[] = [];
  private hostWatch: { stop(): void } | null = null;
  /** Owns the kernel trap's changes; null when the firewall has no trap. */
  private readonly trap: TrapController | null;
  /** Sources whose response (firewall, commands) is under way. */
  private readonly responding = new Set<string>();
  /** REPEAT_LOG="every": probes from a source whose response is under way, logged once it is done. */
  private readonly heldRepeats = new Map<string, Probe[]>();
  /** What is never blocked, for the current settings and host addresses; null = rebuild. */
  private neverBlockCache: NeverBlock | null = null;
  constructor(
    settings: DaemonSettings,
    private readonly deps: DaemonDeps,
  ) {
    this.settings = settings;
    this.trap = deps.kernelTrap === undefined ? null : new TrapController(deps.kernelTrap, deps.log);
    this.engine = new DetectionEngine(engineOptions(settings.config), this.policy(), deps.ledger ?? new BlockLedger());
    this.scans = new ScanRecords(settings.config.stateMaxSources);
    this.sensors = new SensorSet({
      clock: deps.clock,
      log: deps.log,
      onProbe: (probe, reply) => this.handleProbe(probe, reply),
      onDiscovery: (discovery) => void this.handleDiscovery(discovery),
      mayWarn: (key) => this.shouldLogQuietly(key, deps.clock()),
      isOwnAddress: (address) => this.ownAddresses.has(address),
      ...(deps.kernelCapture !== undefined ? { kernelCapture: deps.kernelCapture } : {}),
    });
    this.listenForEvictions();
  }

  get config(): PortSentryConfig {
    return this.settings.config;
  }

  onEvent(listener: (event: HelperEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Binds the sensors; resolves with how many tripwires are live. Throws if none could be bound. */
  async start(): Promise<number> {
    await this.refreshHostAddresses();
    const live = await this.sensors.open(this.config, this.settings.modes);
    await this.updateTrap();
    if (this.deps.watchHost !== undefined) this.hostWatch = this.deps.watchHost(() => void this.refreshHostAddresses());
    else this.timers.push(setInterval(() => void this.refreshHostAddresses(), LOCAL_ADDRESS_REFRESH_MS));
    this.timers.push(setInterval(() => void this.liftExpiredBlocks(), EXPIRY_CHECK_MS));
    for (const timer of this.timers) timer.unref();
    this.deps.log(messages.active());
    return live;
  }

  async stop(): Promise<void> {
    this.writeScanRecords(Infinity);
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.hostWatch?.stop();
    this.hostWatch = null;
    await this.trap?.close();
    await this.sensors.close();
  }

  /** Applies a new config/ignore list; the sensors end up as a fresh start would open them. */
  async reconfigure(next: DaemonSettings): Promise<void> {
    this.settings = next;
    this.neverBlockCache = null;
    this.engine.reconfigure(engineOptions(next.config), this.policy());
    // The new sensors are up before the old ones close (see SensorSet.replace): a change of
    // modes or ports never leaves a moment in which no tripwire listens. Unchanged, it only
    // asks again for the tripwire ports another program held.
    await this.sensors.replace(next.config, next.modes);
    await this.updateTrap();
  }

  /** Swaps the firewall/command/hosts.deny actions after a reload changed them. */
  setActions(actions: ResponseActions): void {
    this.deps.actions = actions;
    this.listenForEvictions();
  }

  /** Tripwires bound before the daemon existed (start-up); start() takes them over. */
  adoptEarlyTripwires(early: EarlyTripwires): void {
    this.sensors.adoptEarly(early);
  }

  /** Restores a block known from before (store, firewall listing) so it is not re-triggered. */
  restoreBlock(address: string, until: number | null): void {
    this.engine.recordBlock(address, until);
  }

  stats(): ReturnType<DetectionEngine['stats']> & { badSources: number } {
    return { ...this.engine.stats(), badSources: this.sensors.badSourceCount };
  }

  /** The whole path of one probe. Public so other sensors (packet capture) feed the same path. */
  handleProbe(probe: Probe, reply?: (banner: string) => void, observe = true): void {
    if (observe) this.deps.observeProbe?.(probe);
    // What a block of this source covers: the address, or (IPv6) its BLOCK_PREFIX6 network,
    // which is then what the engine counts and dedupes: rotating through a /64 gains nothing.
    const scope = this.scopeOf(probe.source, probe.family as AddressFamily);
    const key = scope.text;
    const onLink = this.policy().isOnLink(probe.source, probe.family as AddressFamily);
    const verdict = this.engine.assess(key === probe.source ? probe : { ...probe, source: key }, { onLink });
    if (verdict.kind !== 'ignored') this.scans.note(key, probe, recordOutcome(verdict.kind, this.responding.has(key)));
    switch (verdict.kind) {
      case 'below-threshold': {
        // An on-link neighbour's lone touch of a LAN service (scan-score.ts): reported once a
        // minute per source and service, never blocked, never counted as a handled scanner.
        const what = verdict.service ?? probeTarget(probe);
        if (!this.shouldLogQuietly(`lan ${probe.source} ${what}`, probe.at)) return;
        const why = `${onLink ? 'a neighbour on this link' : 'a source'} touching ${what} (score ${verdict.score} of ${verdict.threshold}, SCAN_SCORING="${this.config.scanScoring}")`;
        this.deps.log(messages.lanTouch(probe, why));
        this.scans.settle(key, 'watched', why);
        this.emit(probe, 'alert-only', `reported, not blocked: ${why}`);
        return;
      }
      case 'ignored': {
        const why = describeNeverBlockReason(verdict.reason);
        // Repeats are summarised (logs, store and subscribers alike): an ignored host
        // running a full port scan is one line a minute, not 65,535.
        if (!this.shouldLogQuietly(`ignored ${probe.source}`, probe.at)) return;
        this.deps.log(messages.ignored(probe.source, why));
        // In words ("on the ignore list"), as every other not-blocked reason: the GUI shows it as said.
        this.emit(probe, 'ignored', why);
        return;
      }
      case 'already-blocked': {
        const every = this.config.repeatLog === 'every';
        if (this.responding.has(key)) {
          // A block still being applied is not news: the event that triggered it follows.
          // With 1.2's policy the probe is still logged, after that block's own lines.
          if (every) this.holdRepeat(key, probe);
          return;
        }
        const fresh = this.shouldLogQuietly(`blocked ${probe.source}`, probe.at);
        if (every) this.deps.log(messages.attack(probe, probe.source));
        if (every || fresh) this.deps.log(messages.alreadyBlocked(probe.source, probe.mode !== 'tcp' && probe.mode !== 'udp'));
        // The store and subscribers get a summary whatever the log policy: a full port scan
        // from a blocked host is one event a minute there, not 65,535.
        if (fresh) this.emit(probe, 'already-blocked');
        return;
      }
      case 'already-reported': {
        // Reported (not blocked) within the trigger window: said again at most once a minute,
        // with why it is not blocked; never "already blocked", which would not be true.
        if (!this.shouldLogQuietly(`reported ${probe.source}`, probe.at)) return;
        const why = this.whyNotBlocked(probe.protocol);
        this.deps.log(messages.alreadyReported(probe.source, why));
        this.emit(probe, 'alert-only', `reported already, not blocked: ${why}`);
        return;
      }
      case 'counted':
        this.emit(probe, 'counted', `${verdict.hits} of ${verdict.needed} touches`);
        return;
      case 'rate-limited': {
        const why = `more than ${verdict.limit} new blocks a minute from ${verdict.prefix} (BLOCK_RATE_PER_PREFIX)`;
        // Once when the limit is hit, not once per refused source: the flood is one line.
        if (verdict.firstHit) this.deps.log(messages.warning(`not blocking ${probe.source} and others: ${why}`));
        this.scans.settle(key, 'watched', why);
        if (this.shouldLogQuietly(`rate-limited ${probe.source}`, probe.at)) this.emit(probe, 'rate-limited', why);
        return;
      }
      case 'triggered':
        if (this.config.portBanner !== null) reply?.(this.config.portBanner);
        if (this.paused) {
          // Paused: report, but block nothing, and let the source trigger again on resume.
          this.engine.abandonBlock(key);
          if (this.shouldLogQuietly(`paused ${probe.source}`, probe.at)) this.deps.log(messages.attack(probe, probe.source));
          this.scans.settle(key, 'reported', 'protection is paused');
          this.emit(probe, 'alert-only', 'protection is paused');
          return;
        }
        this.responding.add(key);
        void this.respond(probe, scope).finally(() => {
          this.responding.delete(key);
          this.replayHeld(key);
        });
        return;
    }
  }

  /**
   * A host discovery request (engine/host-discovery.ts): reported as a sweep, once a minute per
   * source and kind, or with HOST_DISCOVERY="block" its sender blocked as by hand. Never goes
   * through the engine's port counting: a sweep is no port's probe, and TCP/UDP pings to a
   * watched port are judged there already.
   */
  async handleDiscovery(discovery: Discovery): Promise<void> {
    if (this.policy().reasonToIgnore(discovery.source, discovery.family) !== null) return;
    const scope = this.scopeOf(discovery.source, discovery.family);
    if (this.engine.isBlocked(scope.text, discovery.at) || this.responding.has(scope.text)) return;
    const verdict = judgeDiscovery(discovery.kind, this.policy().isOnLink(discovery.source, discovery.family), this.config.hostDiscovery);
    if (verdict === 'silent') return;
    const block = verdict === 'block' && !this.paused;
    this.scans.noteDiscovery(scope.text, discovery, 'watched');
    if (!this.shouldLogQuietly(`sweep ${discovery.kind} ${scope.text}`, discovery.at)) return;
    const words = sweepWords(discovery.kind, discovery.family);
    const setting = `HOST_DISCOVERY="${this.config.hostDiscovery}"${this.paused ? ', protection is paused' : ''}`;
    this.deps.log(messages.sweep(words, discovery.source, block ? 'blocking' : `reported, not blocked (${setting})`));
    if (!block) {
      this.scans.settle(scope.text, 'reported');
      return;
    }
    this.responding.add(scope.text);
    try {
      const result = await this.blockByHand(scope.text, null, `${words} (${setting})`);
      if (!result.ok) this.deps.log(messages.couldNotBlock(scope.text, result.message));
      this.scans.settle(scope.text, result.ok ? 'blocked' : 'reported');
    } finally {
      this.responding.delete(scope.text);
    }
  }

  private async respond(probe: Probe, scope: BlockTarget): Promise<void> {
    const config = this.config;
    const plan = responsePlan(config, probe.protocol);
    // The attack line comes first, as in the original; with RESOLVE_HOST it waits for the
    // name, but the block never waits for DNS.
    if (!config.resolveHost) this.deps.log(messages.attack(probe, probe.source));
    const resolving = config.resolveHost ? this.resolve(probe.source) : Promise.resolve(probe.source);
    // A repeat offender (blocked before, its block lapsed) gets a longer block; it replaces the
    // element the kernel trap may have added with the base timeout.
    const earlier = planBlocks(plan) && config.blockTimeoutSeconds > 0 ? this.earlierBlocks(probe.source) : 0;
    const seconds = repeatBlockSeconds(config.blockTimeoutSeconds, earlier, { factor: config.blockRepeatFactor, formula: config.blockRepeatFormula, maxSeconds: config.blockRepeatMaxSeconds });
    const longer = seconds === config.blockTimeoutSeconds ? undefined : seconds;
    const [outcome, resolved] = await Promise.all([carryOut(plan, probe, config, this.deps.actions, scope.text, longer), resolving]);

    if (config.resolveHost) this.deps.log(messages.attack(probe, resolved));
    if (probe.ipOptions === true) this.deps.log(messages.ipOptions(resolved, probe.source, probe.port));
    if (plan.length === 0) this.deps.log(messages.responseIgnored(probe.protocol === 'tcp' ? 'TCP' : 'UDP'));
    for (const line of outcome.lines) this.deps.log(line);

    const resolvedName = resolved === probe.source ? undefined : resolved;
    if (!outcome.ok && !outcome.firewalled) {
      // Nothing held: let the next probe from this source try again.
      this.engine.abandonBlock(scope.text);
      this.scans.settle(scope.text, 'reported', `the block failed: ${outcome.lines.join('; ')}`);
      this.emit(probe, 'block-failed', outcome.lines.join('; '), resolvedName);
      return;
    }
    const until = planBlocks(plan) && seconds > 0 ? probe.at + seconds * 1000 : null;
    const repeat =
      longer !== undefined && outcome.firewalled ? `repeat offender: blocked ${earlier} ${earlier === 1 ? 'time' : 'times'} before, this block lasts ${seconds} s (BLOCK_REPEAT_*)` : undefined;
    if (repeat !== undefined) this.deps.log(messages.repeatOffender(probe.source, repeat));
    // Only what the kernel holds is "blocked": a source reported without a block is remembered
    // as reported (its next probes say so), never as blocked.
    if (outcome.firewalled) this.engine.confirmBlock(scope.text, until);
    else this.engine.confirmReported(scope.text, probe.protocol, probe.at);
    this.scans.settle(
      scope.text,
      outcome.firewalled ? 'blocked' : 'reported',
      outcome.firewalled ? undefined : outcome.ok ? this.whyNotBlocked(probe.protocol) : `the block failed: ${outcome.lines.join('; ')}`,
    );
    // Like the original, the history records every handled scanner, even with BLOCK_* = 0.
    await this.deps.history.record({ at: probe.at, resolved, source: probe.source, port: probe.port, protocol: probe.protocol === 'tcp' ? 'TCP' : 'UDP' }, probe.mode);
    const action = outcome.firewalled ? 'blocked' : 'alert-only';
    const reason = !outcome.ok ? outcome.lines.join('; ') : outcome.firewalled ? repeat : `not blocked: ${this.whyNotBlocked(probe.protocol)}`;
    this.emit(probe, outcome.ok ? action : 'block-failed', reason, resolvedName);
    if (outcome.firewalled) {
      const what = probe.kind === 'connect' || probe.kind === 'udp' ? 'touch' : `${probe.kind} probe`;
      const seen = scope.text === probe.source ? '' : ` by ${probe.source}`;
      this.emitBlock('added', scope.text, `${what} of ${probeTarget(probe)}${seen}${repeat === undefined ? '' : `; ${repeat}`}`, until);
    }
  }

  /** True while packet capture runs (stealth/advanced modes, half-open SYNs in -tcp). */
  get captureActive(): boolean {
    return this.sensors.captureActive;
  }

  /** Configured tripwire ports not watched because another program holds them (status). */
  portsInUseByOthers(): { tcp: number[]; udp: number[] } {
    return this.sensors.portsInUseByOthers();
  }

  /** Frames read from packet capture and frames that could not be decoded (metrics). */
  captureStats(): { frames: number; undecoded: number } {
    return this.sensors.captureStats();
  }

  get modes(): readonly Mode[] {
    return this.settings.modes;
  }

  /** Where the running modes came from: mode flags (which win) or MODES. */
  get modesFrom(): 'command-line' | 'config' {
    return this.settings.modesFrom ?? 'command-line';
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get pausedUntil(): number | null {
    return this.paused ? this.pauseEndsAt : null;
  }

  /**
   * Pause protection: scans are still reported, nothing new is blocked. With `until` the
   * pause ends by itself at that time (the once-a-second expiry tick resumes it).
   */
  async setPaused(paused: boolean, until: number | null = null): Promise<void> {
    const endsAt = paused ? until : null;
    if (this.paused && paused && this.pauseEndsAt !== endsAt) {
      this.pauseEndsAt = endsAt;
      this.deps.log(messages.warning(endsAt === null ? 'protection paused until resumed' : `protection paused until ${new Date(endsAt).toISOString()}`));
      this.deps.protectionChanged?.();
    }
    if (this.paused === paused) return;
    this.paused = paused;
    this.pauseEndsAt = endsAt;
    const howLong = endsAt === null ? '' : ` until ${new Date(endsAt).toISOString()}`;
    // Paused is a warning (nothing new is blocked); resuming is not: nothing failed.
    this.deps.log(paused ? messages.warning(`protection paused${howLong}: scans are reported but not blocked`) : messages.notice('protection resumed'));
    this.deps.protectionChanged?.();
    // Paused means nothing is blocked: the kernel trap goes too, and comes back on resume.
    await this.updateTrap();
  }

  /**
   * Blocks an address by hand (RPC, tray menu). Refuses protected addresses with the reason,
   * so no caller can turn the helper against the host itself.
   */
  async blockByHand(text: string, requestedSeconds: number | null, reason: string): Promise<BlockResult> {
    // No (or zero) timeout asked for: the configured BLOCK_TIMEOUT applies, as for scanners.
    const timeoutSeconds = requestedSeconds !== null && requestedSeconds > 0 ? requestedSeconds : this.config.blockTimeoutSeconds;
    const target = parseBlockTarget(text);
    if (typeof target === 'string') return { ok: false, code: 'invalid-address', message: target };
    const single = target.text === target.network;
    const refusal = single ? this.policy().reasonToIgnore(target.network, target.family) : null;
    if (refusal !== null) return { ok: false, code: 'protected-address', message: `${target.text} is ${describeNeverBlockReason(refusal)} and is never blocked` };
    const inside = single ? null : protectedOverlap(target, this.policy().networks());
    if (inside !== null)
      return {
        ok: false,
        code: 'protected-address',
        message: `${target.text} contains ${inside.address}${inside.prefix === (inside.family === 4 ? 32 : 128) ? '' : `/${inside.prefix}`}, ${inside.why}, which is never blocked`,
      };
    const firewall = this.deps.actions.firewall;
    if (firewall === null) return { ok: false, code: 'no-firewall', message: 'no firewall backend is configured (BLOCK_BACKEND="none")' };
    if (!single && firewall.prefixes !== true) return { ok: false, code: 'invalid-address', message: `the ${firewall.name} backend blocks single addresses, not prefixes such as ${target.text}` };
    try {
      // Blocking again with a new time (the dashboard's Extend) must reach the kernel too: an
      // element already in a set keeps its old timeout, so the backend replaces it, without a
      // moment in which the address is not blocked.
      const replace = this.engine.isBlocked(target.text, this.deps.clock());
      await firewall.block(target.text, { ...(timeoutSeconds !== null && timeoutSeconds > 0 ? { timeoutSeconds } : {}), ...(replace ? { replace } : {}) });
    } catch (error) {
      return { ok: false, code: 'firewall-failed', message: (error as Error).message };
    }
    const until = timeoutSeconds !== null && timeoutSeconds > 0 ? this.deps.clock() + timeoutSeconds * 1000 : null;
    this.engine.recordBlock(target.text, until);
    this.deps.log(messages.blockedViaRoute(target.text, firewall.describeBlock(target.text, timeoutSeconds !== null && timeoutSeconds > 0 ? { timeoutSeconds } : {}), reason));
    this.emitBlock('added', target.text, reason, until);
    return { ok: true, address: target.text, until };
  }

  /** Lifts a block (RPC, tray menu). Unblocking an address that is not blocked is not an error. */
  async unblock(text: string, reason: string): Promise<BlockResult> {
    const parsed = parseBlockTarget(text);
    if (typeof parsed === 'string') return { ok: false, code: 'invalid-address', message: parsed };
    // An address whose block is its IPv6 network: unblocking the address lifts that block.
    const scope = this.scopeOf(parsed.network, parsed.family);
    const now = this.deps.clock();
    const target = parsed.text === parsed.network && !this.engine.isBlocked(parsed.text, now) && this.engine.isBlocked(scope.text, now) ? scope.text : parsed.text;
    const firewall = this.deps.actions.firewall;
    try {
      await firewall?.unblock(target);
    } catch (error) {
      return { ok: false, code: 'firewall-failed', message: (error as Error).message };
    }
    const had = this.engine.forgetBlock(target);
    this.deps.log(messages.unblocked(target, reason));
    if (had) this.emitBlock('removed', target, reason, null);
    return { ok: true, address: target, until: null, removed: had };
  }

  /**
   * Applies a ban another machine of the fleet made (a CrowdSec decision). The same rules as
   * a block by hand: protected addresses and the ignore list win, whatever the fleet says.
   * An address already blocked here is left as it is ('already-blocked').
   */
  async applyFleetBlock(address: string, seconds: number, origin: FleetOrigin): Promise<BlockResult | { ok: false; code: 'already-blocked' | 'paused'; message: string }> {
    const parsed = parseAddress(address);
    if (parsed === null) return { ok: false, code: 'invalid-address', message: 'not an IPv4 or IPv6 address' };
    // Paused means nothing new is blocked, whoever asks.
    if (this.paused) return { ok: false, code: 'paused', message: 'protection is paused' };
    if (this.engine.isBlocked(parsed.address, this.deps.clock())) return { ok: false, code: 'already-blocked', message: `${parsed.address} is already blocked here` };
    const refusal = this.policy().reasonToIgnore(parsed.address, parsed.family);
    if (refusal !== null) return { ok: false, code: 'protected-address', message: `${parsed.address} is ${describeNeverBlockReason(refusal)} and is never blocked` };
    const firewall = this.deps.actions.firewall;
    if (firewall === null) return { ok: false, code: 'no-firewall', message: 'no firewall backend is configured (BLOCK_BACKEND="none")' };
    try {
      await firewall.block(parsed.address, { timeoutSeconds: seconds });
    } catch (error) {
      return { ok: false, code: 'firewall-failed', message: (error as Error).message };
    }
    const until = this.deps.clock() + seconds * 1000;
    this.engine.recordBlock(parsed.address, until);
    const reason = `from the fleet: ${origin.scenario} reported by ${origin.machine}`;
    this.deps.log(messages.blockedViaRoute(parsed.address, firewall.describeBlock(parsed.address, { timeoutSeconds: seconds }), reason));
    this.emitBlock('added', parsed.address, reason, until, origin);
    return { ok: true, address: parsed.address, until };
  }

  /** The blocks the firewall holds (confirmed, not lapsed), from the ledger the firewall owner keeps the kernel to. */
  heldBlocks(): Array<{ key: string; until: number | null }> {
    return [...this.engine.ledger.confirmed(this.deps.clock())];
  }

  /**
   * Whether the helper protects the host at all, and if not, why: paused, blocking off for
   * both protocols, no firewall, or an ignore list that covers every address.
   */
  protection(): { protecting: boolean; reason: string | null } {
    const reasons: string[] = [];
    if (this.paused) reasons.push(this.pauseEndsAt === null ? 'protection is paused' : `protection is paused until ${new Date(this.pauseEndsAt).toISOString()}`);
    const config = this.config;
    if (config.blockTcp !== 1 && config.blockUdp !== 1) reasons.push(`blocking is off (BLOCK_TCP=${config.blockTcp}, BLOCK_UDP=${config.blockUdp}): scans are reported only`);
    else if (this.deps.actions.firewall === null) reasons.push('no firewall backend is configured (BLOCK_BACKEND="none")');
    // Every address, whether as 0.0.0.0/0 or as ranges that together leave nothing out.
    const everything = (family: AddressFamily) => coversFamily(this.settings.ignore, family);
    if (everything(4) && (everything(6) || !config.ipv6)) reasons.push(`the ignore list covers every ${config.ipv6 ? 'IPv4 and IPv6' : 'IPv4'} address: every scanner is ignored`);
    return { protecting: reasons.length === 0, reason: reasons.length === 0 ? null : reasons.join('; ') };
  }

  /** Earlier detection blocks of an address, from the store; a store that cannot answer counts none. */
  private earlierBlocks(address: string): number {
    try {
      return this.deps.earlierBlocks?.(address) ?? 0;
    } catch {
      return 0;
    }
  }

  /** Why a triggered source of this protocol is reported but not blocked (the config's choice). */
  private whyNotBlocked(protocol: Probe['protocol']): string {
    const config = this.config;
    const key = protocol === 'tcp' ? 'BLOCK_TCP' : 'BLOCK_UDP';
    const level = protocol === 'tcp' ? config.blockTcp : config.blockUdp;
    if (level === 0) return `report only (${key}=0)`;
    if (level === 2) return `only KILL_RUN_CMD runs (${key}=2)`;
    return config.blockBackend === 'none' ? 'no firewall backend (BLOCK_BACKEND="none")' : 'the firewall was not part of the response';
  }

  private async resolve(address: string): Promise<string> {
    const lookup = this.deps.resolveName ?? defaultResolveName;
    try {
      return (await lookup(address)) ?? address;
    } catch {
      return address;
    }
  }

  private policy(): NeverBlock {
    this.neverBlockCache ??= new NeverBlock(this.settings.ignore, this.host);
    return this.neverBlockCache;
  }

  /** The block for a source: its BLOCK_PREFIX6 network unless that holds a protected address. */
  private scopeOf(address: string, family: AddressFamily): BlockTarget {
    if (family === 4 || this.deps.actions.firewall?.prefixes !== true || this.config.blockPrefix6 >= 128) return hostTarget(address, family);
    const wide = aggregateTarget(address, family, this.config.blockPrefix6);
    return protectedOverlap(wide, this.policy().networks()) === null ? wide : hostTarget(address, family);
  }

  /** A full block set evicted some blocks: the engine and the record forget them. */
  private listenForEvictions(): void {
    this.deps.actions.firewall?.setEvictionListener?.((targets, why) => {
      for (const target of targets) {
        if (this.engine.forgetBlock(target)) this.emitBlock('removed', target, why, null);
      }
    });
  }

  /** The open scan record of a source (scope as the engine judged it), or null. */
  scanRecordOf(source: string): ScanRecord | null {
    return this.scans.current(source);
  }

  /** Reads the protected addresses again now (the fleet learnt its LAPI's), not at the next tick. */
  refreshProtectedAddresses(): Promise<void> {
    return this.refreshHostAddresses();
  }

  private async refreshHostAddresses(): Promise<void> {
    const host = await this.deps.hostAddresses();
    const key = JSON.stringify([[...host.own], [...(host.gateways ?? [])], [...(host.resolvers ?? [])], [...(host.fleetServers ?? [])], [...(host.onLink ?? [])]]);
    if (key === this.hostKey) return;
    this.host = host;
    this.hostKey = key;
    this.ownAddresses = new Set(host.own);
    this.neverBlockCache = null;
    this.engine.reconfigure(engineOptions(this.config), this.policy());
    await this.updateTrap();
  }

  /** Brings the kernel trap in line with the settings, the never-block lists and the pause state. */
  private async updateTrap(): Promise<void> {
    if (this.trap === null) return;
    const rules = planCapture(this.config, this.settings.modes)?.rules ?? [];
    const planned = planTrap(this.config, this.settings.modes, rules, this.policy().forKernelTrap(), this.paused, this.sensors.boundTripwires());
    // Stealth and advanced ports only while capture runs, so every probe the kernel stops is
    // also seen here; UDP tripwires are seen by their own sockets (the trap lets them through).
    const captured = planned === null || this.sensors.captureActive ? planned : withoutCaptured(planned);
    // Capture reads netfilter's log: the trap logs what it blocks there, so the daemon learns it.
    const group = this.sensors.nflogGroup;
    await this.trap.apply(captured === null || group === null ? captured : { ...captured, logGroup: group });
  }

  /** Scans started since the helper started (metrics). */
  get scansStarted(): number {
    return this.scans.startedCount;
  }

  /** Hands the scan records that changed to the store and the subscribers (the once-a-second tick; at stop, all of them). */
  private writeScanRecords(limit = MAX_SCAN_RECORDS_PER_TICK): void {
    const changed = this.scans.takeChanged(limit);
    if (changed.length > 0) this.deps.recordScans?.(changed);
    // One line per scan beside 1.2's per-probe lines, only when asked for (1.2's consumers see what they always saw).
    if (this.config.scanSummaryLog) for (const record of this.scans.takeSummaries()) this.deps.log(messages.scanSummary(record));
  }

  private async liftExpiredBlocks(): Promise<void> {
    this.writeScanRecords();
    if (this.paused && this.pauseEndsAt !== null && this.deps.clock() >= this.pauseEndsAt) await this.setPaused(false);
    for (const address of this.engine.takeExpiredBlocks(this.deps.clock())) {
      try {
        // The kernel already dropped the element (nft timeout); this keeps other backends in step.
        await this.deps.actions.firewall?.unblock(address);
        this.deps.log(messages.blockExpired(address));
        this.emitBlock('removed', address, 'expired', null);
      } catch (error) {
        this.deps.log(messages.error(`could not lift the expired block of ${address}: ${(error as Error).message}`));
      }
    }
  }

  /** REPEAT_LOG="every": a probe that came while its source's block was being applied. */
  private holdRepeat(key: string, probe: Probe): void {
    let held = this.heldRepeats.get(key);
    if (held === undefined) this.heldRepeats.set(key, (held = []));
    // Bounded: a flood during one block's few milliseconds is logged up to this many lines.
    if (held.length < MAX_HELD_REPEATS) held.push(probe);
  }

  /** After a response: the held probes go the whole way again (already blocked, or a retry if the block failed). */
  private replayHeld(key: string): void {
    const held = this.heldRepeats.get(key);
    if (held === undefined) return;
    this.heldRepeats.delete(key);
    for (const probe of held) this.handleProbe(probe, undefined, false);
  }

  private shouldLogQuietly(key: string, now: number): boolean {
    const last = this.lastQuietLog.get(key);
    if (last !== undefined && now - last < QUIET_REPEAT_MS) return false;
    this.lastQuietLog.delete(key);
    this.lastQuietLog.set(key, now);
    if (this.lastQuietLog.size > MAX_QUIET_ENTRIES) {
      const oldest = this.lastQuietLog.keys().next();
      if (oldest.done !== true) this.lastQuietLog.delete(oldest.value);
    }
    return true;
  }

  private emit(probe: Probe, action: DetectionEvent['action'], reason?: string, resolvedName?: string): void {
    if (this.listeners.size === 0) return;
    const event: DetectionEvent = {
      type: 'scan',
      at: probe.at,
      source: probe.source,
      family: probe.family as AddressFamily,
      port: probe.port,
      protocol: probe.protocol,
      kind: probe.kind,
      mode: probe.mode,
      action,
      ...(reason === undefined ? {} : { reason: cleanText(reason) }),
      // A reverse name is attacker-controlled: only hostname characters reach the store.
      ...(resolvedName === undefined || !/^[A-Za-z0-9.-]{1,253}$/.test(resolvedName) ? {} : { resolvedName }),
    };
    for (const listener of this.listeners) listener(event);
  }

  private emitBlock(change: BlockChangeEvent['change'], address: string, reason: string, until: number | null, fleet?: FleetOrigin): void {
    const event: BlockChangeEvent = { type: 'block', change, at: this.deps.clock(), address, reason: cleanText(reason), until, ...(fleet === undefined ? {} : { fleet }) };
    for (const listener of this.listeners) listener(event);
  }
}

export type BlockResult =
  | { readonly ok: true; readonly address: string; readonly until: number | null; readonly removed?: boolean }
  | { readonly ok: false; readonly code: 'invalid-address' | 'protected-address' | 'no-firewall' | 'firewall-failed'; readonly message: string };

function withoutCaptured(plan: TrapPlan): TrapPlan | null {
  return plan.udpTripwires.length === 0 ? null : { ...plan, tcpPorts: [], udpPorts: [] };
}

function engineOptions(config: PortSentryConfig): EngineOptions {
  return {
    scanTrigger: config.scanTrigger,
    windowMs: config.scanTriggerWindowSeconds * 1000,
    maxSources: config.stateMaxSources,
    blockRatePerPrefix: config.blockRatePerPrefix,
    score: scoreOptions(config),
  };
}

/**
 * The host's name as gethostbyaddr gives it (getnameinfo through NSS: /etc/hosts, then DNS),
 * fully qualified, as 1.2 logged it; not the first PTR alias that dns.reverse would pick.
 */
async function defaultResolveName(address: string): Promise<string | null> {
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000).unref());
  const found = await Promise.race([
    lookupService(address, 0).then(
      (r) => r.hostname,
      () => null,
    ),
    timeout,
  ]);
  // getnameinfo answers with the address itself when no name is known.
  const name = found === null || found === address ? undefined : found;
  // A reverse name is attacker-controlled text: keep it to hostname characters.
  return name !== undefined && /^[A-Za-z0-9.-]{1,253}$/.test(name) ? name : null;
}

/**
 * What a probe's verdict says of its scan. While the response to the scan is under way the
 * engine already answers "already blocked", yet nothing is held: the response settles the
 * record (blocked, or reported when BLOCK_TCP/BLOCK_UDP is 0 or the block failed).
 */
function recordOutcome(verdict: string, responding: boolean): ScanOutcome {
  if (verdict === 'already-blocked') return responding ? 'watched' : 'blocked';
  return verdict === 'already-reported' ? 'reported' : 'watched';
}
