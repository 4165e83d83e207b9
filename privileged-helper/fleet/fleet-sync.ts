// This host as a member of a CrowdSec fleet: each block it makes goes to the Local API as an
// alert with a ban decision (queued and retried with backoff while the LAPI is down, never
// in detection's way), and the bouncer's decision stream is polled and other machines' bans
// applied through the daemon, whose protected addresses and ignore list still win.

import type { ScanRecord } from '../../shared/domain/scan-record.js';
import { lookup } from 'node:dns/promises';
import type { PortSentryConfig } from '../config/config.js';
import { parseAddress } from '../../shared/domain/address.js';
import type { FleetOrigin, HelperEvent } from '../../shared/domain/detection-event.js';
import { messages } from '../reporters/messages.js';
import { LapiClient, LapiError } from './lapi-client.js';
import { alertFor, decisionAddress, decisionTarget, DECISION_SKIP_REASONS, MAX_STREAM_DECISIONS, type StreamDecision } from './lapi-messages.js';
import { RecentPorts, retryDelayMs, ShareQueue } from './share-queue.js';

/** How often the decision stream is polled: the fleet's propagation time is about this. */
export const PULL_INTERVAL_MS = 1000;
/** How often the machine says it is alive (CrowdSec's own agents: every 30 s), so `cscli machines list` shows it live. */
export const HEARTBEAT_INTERVAL_MS = 30_000;
/** Machine lookups (one GET /v1/alerts each) per pull; beyond, the decision's origin names it. */
const MAX_LOOKUPS_PER_PULL = 20;
/**
 * And for this long at most per pull: each lookup's answer (up to 4 MB of alerts, which any
 * member can make fat for the addresses it bans) is parsed on the thread that detects.
 */
export const LOOKUP_BUDGET_MS = 250;
/**
 * Fleet blocks held at most: a quarter of one blocked set (BLOCK_SET_SIZE), never more than
 * 200k. The rest of the set stays this host's own: a fleet member flooding the LAPI with bans
 * (or a huge blocklist) must neither fill the set, so that its evictions throw out the
 * scanners this host caught (soonest to expire go first, and fleet bans may outlast them),
 * nor leave local detection a full set. Beyond the share, bans are refused and counted.
 */
const MAX_FLEET_BLOCKS = 200_000;
export function fleetBlockQuota(blockSetSize: number): number {
  return Math.min(MAX_FLEET_BLOCKS, Math.floor(blockSetSize / 4));
}
const QUIET_REFUSAL_MS = 3_600_000;
/** How long the LAPI's resolved addresses are trusted before they are looked up again. */
const LAPI_ADDRESS_TTL_MS = 600_000;
const MAX_QUIET_REFUSALS = 4096;

export interface FleetSettings {
  readonly sharing: boolean;
  readonly url: string;
  readonly machineId: string;
  readonly password: string;
  readonly bouncerKey: string;
  readonly scenario: string;
  readonly origin: string;
  readonly decisionSeconds: number;
  /** Fleet blocks held here at most (fleetBlockQuota of BLOCK_SET_SIZE). */
  readonly maxBlocks: number;
}

/** The fleet part of a config; null when no LAPI is configured. */
export function fleetSettingsOf(config: PortSentryConfig): FleetSettings | null {
  if (config.fleetLapiUrl === '') return null;
  return {
    sharing: config.fleetSharing,
    url: config.fleetLapiUrl,
    machineId: config.fleetMachineId,
    password: config.fleetMachinePassword,
    bouncerKey: config.fleetBouncerKey,
    scenario: config.fleetScenario,
    origin: config.fleetOrigin,
    decisionSeconds: config.fleetDecisionSeconds,
    maxBlocks: fleetBlockQuota(config.blockSetSize),
  };
}

/** Why the daemon did not apply a fleet ban (its applyFleetBlock's refusals). */
const APPLY_REFUSALS = ['invalid-address', 'paused', 'protected-address', 'no-firewall', 'firewall-failed'] as const;

export type ApplyOutcome = { readonly ok: true } | { readonly ok: false; readonly code: (typeof APPLY_REFUSALS)[number] | 'already-blocked'; readonly message: string };

/**
 * Every reason a fleet decision is not applied here, known from the start so the metrics
 * show each at 0 before the first refusal (Prometheus' rate() needs the series to exist).
 */
export const FLEET_REFUSAL_REASONS = [...DECISION_SKIP_REASONS, ...APPLY_REFUSALS, 'lapi-address', 'fleet-share-full', 'malformed', 'over-limit'] as const;
export type FleetRefusalReason = (typeof FLEET_REFUSAL_REASONS)[number];

/** Ports an alert lists at most (a full scan's record holds thousands). */
const MAX_ALERT_PORTS = 64;

export interface FleetDeps {
  readonly clock: () => number;
  readonly random: () => number;
  readonly log: (message: string) => void;
  /** Blocks an address for the fleet (the daemon's applyFleetBlock). */
  readonly applyBlock: (address: string, seconds: number, origin: FleetOrigin) => Promise<ApplyOutcome>;
  /** Lifts a block the fleet asked for, once the fleet withdrew it. */
  readonly liftBlock: (address: string, reason: string) => Promise<void>;
  /** Node's fetch; a test passes a hostile LAPI here. */
  readonly fetchAnswer?: typeof fetch;
  /** The addresses of a host name (the LAPI's, when FLEET_LAPI_URL names one); dns.lookup by default. */
  readonly resolveHost?: (name: string) => Promise<string[]>;
  /** The LAPI's addresses changed (the daemon protects them from local blocks too). */
  readonly lapiAddressesChanged?: () => void;
  /** The scan record of a source as it stands (the daemon's), for the alert's span, probes and ports. */
  readonly scanRecordOf?: (source: string) => ScanRecord | null;
}

export interface FleetStatus {
  sharing: boolean;
  pushing: boolean;
  pulling: boolean;
  connected: boolean | null;
  lastContactAt: number | null;
  lastError: string | null;
  queued: number;
  sent: number;
  dropped: number;
  fleetBlocks: number;
  refused: number;
}

export class FleetSync {
  private readonly client: LapiClient;
  private readonly queue = new ShareQueue();
  private readonly recentPorts = new RecentPorts();
  /** Fleet blocks held here: address -> the decision ids behind it (usually one: arrays are lighter than sets). */
  private readonly applied = new Map<string, number[]>();
  private readonly quietRefusals = new Map<string, number>();
  /** The LAPI's own addresses: a ban on one would cut this host off from the fleet, for good. */
  private lapiAddresses: { readonly addresses: ReadonlySet<string>; readonly at: number } | null = null;
  private learning: Promise<void> | null = null;
  private pushTimer: NodeJS.Timeout | null = null;
  private pullTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatFailing = false;
  private pushing = false;
  private pushFailures = 0;
  private pullFailures = 0;
  private startup = true;
  private stopped = true;
  private pulling: Promise<void> | null = null;
  /** Since the helper started: handed over on reload, so the metrics' counters never go back. */
  private counts = { sent: 0, rejected: 0, refused: 0, droppedBefore: 0 };
  private contact: { connected: boolean | null; at: number | null; error: string | null } = { connected: null, at: null, error: null };
  /** Refused decisions by reason, for the metrics. */
  readonly refusedByReason = new Map<FleetRefusalReason, number>();

  constructor(
    readonly settings: FleetSettings,
    private readonly deps: FleetDeps,
  ) {
    this.client = new LapiClient({ url: settings.url, machineId: settings.machineId, password: settings.password, bouncerKey: settings.bouncerKey }, deps.clock, deps.fetchAnswer);
  }

  private get shouldPush(): boolean {
    return this.settings.sharing && this.client.canPush;
  }

  private get shouldPull(): boolean {
    return this.settings.sharing && this.client.canPull;
  }

  start(): void {
    this.stopped = false;
    if (!this.settings.sharing) {
      this.deps.log(`adminalert: fleet: CrowdSec LAPI ${this.settings.url} configured, sharing is off (FLEET_SHARING="0")`);
      return;
    }
    const parts = [
      this.shouldPush ? `sending blocks as machine ${this.settings.machineId}` : 'not sending (no machine login)',
      this.shouldPull ? "applying the fleet's bans" : 'not applying bans (no bouncer key)',
    ];
    this.deps.log(`adminalert: fleet: CrowdSec LAPI ${this.settings.url}: ${parts.join(', ')}`);
    if (plainHttpAcrossNetwork(this.settings.url)) {
      this.deps.log(
        messages.warning(
          `fleet: FLEET_LAPI_URL is plain http to another host: the machine password, its tokens and the bouncer key cross the network in clear, and whoever reads them can ban or unban addresses on every host of the fleet; use https`,
        ),
      );
    }
    void this.learnLapiAddresses();
    if (this.shouldPull) this.schedulePull(0);
    if (this.shouldPush) this.scheduleHeartbeat(0);
  }

  /** The LAPI's addresses as last learnt (empty until then, or when sharing is off). */
  lapiAddressList(): string[] {
    return [...(this.lapiAddresses?.addresses ?? [])];
  }

  /** Stops polling and sending; what is queued stays in this object (a restart of the helper loses it). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pushTimer !== null) clearTimeout(this.pushTimer);
    if (this.pullTimer !== null) clearTimeout(this.pullTimer);
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.pushTimer = this.pullTimer = this.heartbeatTimer = null;
    await this.pulling;
  }

  /** Hands over the queue and fleet blocks to the FleetSync that replaces this one (reload). */
  handOver(next: FleetSync): void {
    for (const block of this.queue.peek(Number.MAX_SAFE_INTEGER)) next.queue.add(block);
    for (const [address, ids] of this.applied) next.applied.set(address, [...ids]);
    next.counts = { ...this.counts, droppedBefore: this.counts.droppedBefore + this.queue.dropped };
    for (const [reason, n] of this.refusedByReason) next.refusedByReason.set(reason, n);
    next.kick();
  }

  /** Fleet blocks found in the store at start: their decisions' deletion will still lift them. */
  adopt(addresses: readonly string[]): void {
    for (const address of addresses) if (!this.applied.has(address)) this.applied.set(address, []);
  }

  /** Every event of the daemon: scans feed the alert (ports), our blocks are queued for the LAPI. */
  observe(event: HelperEvent): void {
    if (event.type === 'block') {
      if (event.change === 'removed') this.applied.delete(event.address);
      return;
    }
    if (!this.shouldPush) return;
    this.recentPorts.note(event.source, event.port);
    if (event.action !== 'blocked') return;
    const recent = this.recentPorts.take(event.source);
    // The scan's record, when the daemon has one for this source (an IPv6 scan judged by its
    // /64 has none under the address): its ports and probes so far, from its first probe.
    const record = this.deps.scanRecordOf?.(event.source) ?? null;
    const recorded = record === null ? [] : [...record.ports.tcp, ...record.ports.udp].slice(0, MAX_ALERT_PORTS);
    const ports = recorded.length > 0 ? recorded : recent.length > 0 ? recent : [event.port];
    this.queue.add({
      address: event.source,
      at: event.at,
      kind: event.kind,
      protocol: event.protocol,
      ports,
      mode: event.mode,
      ...(record === null ? {} : { scan: { firstProbe: record.firstProbe, probes: record.probes, kinds: record.kinds } }),
    });
    this.kick();
  }

  status(): FleetStatus {
    return {
      sharing: this.settings.sharing,
      pushing: this.shouldPush,
      pulling: this.shouldPull,
      connected: this.contact.connected,
      lastContactAt: this.contact.at,
      lastError: this.contact.error,
      queued: this.queue.length,
      sent: this.counts.sent,
      dropped: this.counts.droppedBefore + this.queue.dropped + this.counts.rejected,
      fleetBlocks: this.applied.size,
      refused: this.counts.refused,
    };
  }

  private kick(): void {
    if (this.stopped || this.pushing || this.pushTimer !== null || this.queue.length === 0) return;
    this.pushing = true;
    setImmediate(() => void this.push());
  }

  private async push(): Promise<void> {
    const batch = this.queue.peek();
    try {
      if (this.stopped || batch.length === 0) return;
      const settings = { scenario: this.settings.scenario, origin: this.settings.origin, durationSeconds: this.settings.decisionSeconds };
      await this.client.pushAlerts(batch.map((block) => alertFor(block, settings)));
      this.queue.done(batch);
      this.counts.sent += batch.length;
      if (this.pushFailures > 0) this.deps.log(`adminalert: fleet: the CrowdSec LAPI takes alerts again; ${batch.length} sent, ${this.queue.length} still queued`);
      this.pushFailures = 0;
      this.contacted(null);
    } catch (error) {
      const problem = describe(error);
      if (error instanceof LapiError && (error.status === 400 || error.status === 422)) {
        // The LAPI will never take this batch: retrying would block every later alert.
        this.queue.done(batch);
        this.counts.rejected += batch.length;
        this.deps.log(messages.error(`fleet: the CrowdSec LAPI rejected ${batch.length} alerts, dropped: ${problem}`));
      } else {
        this.pushFailures += 1;
        const delay = retryDelayMs(this.pushFailures, this.deps.random);
        if (this.pushFailures === 1) this.deps.log(messages.warning(`fleet: cannot send alerts to the CrowdSec LAPI (${problem}); ${this.queue.length} queued, retrying with backoff`));
        this.pushTimer = setTimeout(() => {
          this.pushTimer = null;
          this.kick();
        }, delay);
        this.pushTimer.unref();
      }
      this.contacted(problem);
    } finally {
      this.pushing = false;
      this.kick();
    }
  }

  private scheduleHeartbeat(delay: number): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      void this.beat().finally(() => this.scheduleHeartbeat(HEARTBEAT_INTERVAL_MS));
    }, delay);
    this.heartbeatTimer.unref();
  }

  /** One heartbeat; a failure is said once until one succeeds again (the LAPI may be down for a while). */
  private async beat(): Promise<void> {
    try {
      await this.client.heartbeat();
      this.heartbeatFailing = false;
      this.contacted(null);
    } catch (error) {
      const problem = describe(error);
      if (!this.heartbeatFailing)
        this.deps.log(messages.warning(`fleet: cannot send a heartbeat to the CrowdSec LAPI (${problem}); cscli machines list will show ${this.settings.machineId} as stale until one arrives`));
      this.heartbeatFailing = true;
      this.contacted(problem);
    }
  }

  private schedulePull(delay: number): void {
    if (this.stopped) return;
    this.pullTimer = setTimeout(() => {
      this.pullTimer = null;
      this.pulling = this.pull().finally(() => (this.pulling = null));
    }, delay);
    this.pullTimer.unref();
  }

  private async pull(): Promise<void> {
    let next = PULL_INTERVAL_MS;
    try {
      const answer = await this.client.pullDecisions(this.startup);
      this.startup = false;
      if (this.pullFailures > 0) this.deps.log(`adminalert: fleet: the CrowdSec LAPI decision stream is back`);
      this.pullFailures = 0;
      this.contacted(null);
      await this.learnLapiAddresses();
      if (answer.malformed > 0) this.refuse('malformed', `${answer.malformed} malformed decisions in the stream`, 'malformed', answer.malformed);
      if (answer.overLimit > 0) this.refuse('over-limit', `${answer.overLimit} decisions in the stream beyond the ${MAX_STREAM_DECISIONS} read per answer`, 'over-limit', answer.overLimit);
      for (const decision of answer.deleted) await this.withdraw(decision);
      let lookups = 0;
      const lookupsUntil = this.deps.clock() + LOOKUP_BUDGET_MS;
      for (const decision of answer.added) {
        if (this.stopped) break;
        const lookup = lookups < MAX_LOOKUPS_PER_PULL && this.client.canPush && this.deps.clock() < lookupsUntil;
        if (await this.apply(decision, lookup)) lookups += 1;
      }
    } catch (error) {
      this.pullFailures += 1;
      next = retryDelayMs(this.pullFailures, this.deps.random);
      const problem = describe(error);
      if (this.pullFailures === 1) this.deps.log(messages.warning(`fleet: cannot read the CrowdSec decision stream (${problem}); retrying with backoff`));
      this.contacted(problem);
    }
    this.schedulePull(next);
  }

  /** Applies one new decision; true when it cost a machine lookup. */
  private async apply(decision: StreamDecision, lookup: boolean): Promise<boolean> {
    const target = decisionTarget(decision);
    if (!target.ok) {
      this.refuse(target.reason, `fleet decision ${decision.id} not applied: ${target.reason}`, `${target.reason} ${decision.id}`);
      return false;
    }
    if (this.lapiAddresses?.addresses.has(target.address) === true) {
      this.refuse(
        'lapi-address',
        `fleet decision ${decision.id} not applied: ${target.address} is the CrowdSec LAPI's address (blocking it would cut this host off from the fleet, and from the ban's withdrawal)`,
        `lapi-address ${target.address}`,
      );
      return false;
    }
    const known = this.applied.get(target.address);
    if (known !== undefined) {
      if (!known.includes(decision.id) && known.length < 64) known.push(decision.id);
      return false;
    }
    if (this.applied.size >= this.settings.maxBlocks) {
      this.refuse(
        'fleet-share-full',
        `fleet: ${this.applied.size} fleet bans held, the fleet's share of the block set (BLOCK_SET_SIZE/4, at most 200,000); further bans are not applied until some lapse`,
        'fleet-share-full',
      );
      return false;
    }
    let machine: string | null = null;
    if (lookup) machine = await this.client.machineOfDecision(target.address, decision.id).catch(() => null);
    // Our own ban coming back: it is (or was) blocked here by detection already.
    if (machine !== null && machine === this.settings.machineId) return lookup;
    const origin: FleetOrigin = { machine: safeName(machine ?? `origin:${decision.origin}`), scenario: safeName(decision.scenario) };
    const outcome = await this.deps.applyBlock(target.address, target.seconds, origin);
    if (outcome.ok) {
      this.applied.set(target.address, [decision.id]);
    } else if (outcome.code !== 'already-blocked') {
      this.refuse(outcome.code, `fleet: ban of ${target.address} from ${origin.machine} not applied: ${outcome.message}`, `${outcome.code} ${target.address}`);
    }
    return lookup;
  }

  /**
   * The addresses FLEET_LAPI_URL names: its literal address, or what its host name resolves
   * to (looked up again every ten minutes; a failed lookup keeps the last answer).
   */
  private learnLapiAddresses(): Promise<void> {
    const now = this.deps.clock();
    if (this.lapiAddresses !== null && now - this.lapiAddresses.at < LAPI_ADDRESS_TTL_MS) return Promise.resolve();
    // One lookup at a time: the first pull may come while the one of start() runs.
    this.learning ??= this.lookUpLapiAddresses(now).finally(() => (this.learning = null));
    return this.learning;
  }

  private async lookUpLapiAddresses(now: number): Promise<void> {
    const host = new URL(this.settings.url).hostname.replace(/^\[(.*)\]$/, '$1');
    const literal = parseAddress(host);
    let found: string[];
    if (literal !== null) found = [literal.address];
    else {
      try {
        found = (await (this.deps.resolveHost ?? resolveHost)(host)).flatMap((text) => parseAddress(text)?.address ?? []);
      } catch (error) {
        this.deps.log(messages.warning(`fleet: cannot look up the CrowdSec LAPI's address (${describe(error)}); bans on the addresses it had are still refused`));
        found = [];
      }
    }
    const before = this.lapiAddressList().join(' ');
    this.lapiAddresses = { addresses: found.length > 0 ? new Set(found) : (this.lapiAddresses?.addresses ?? new Set()), at: now };
    if (this.lapiAddressList().join(' ') !== before) this.deps.lapiAddressesChanged?.();
  }

  private async withdraw(decision: StreamDecision): Promise<void> {
    const address = decisionAddress(decision);
    if (address === null) return;
    const ids = this.applied.get(address);
    if (ids === undefined) return;
    const rest = ids.filter((id) => id !== decision.id);
    this.applied.set(address, rest);
    if (rest.length > 0) return;
    this.applied.delete(address);
    await this.deps.liftBlock(address, 'the fleet withdrew its ban');
  }

  private refuse(reason: FleetRefusalReason, line: string, quietKey: string, count = 1): void {
    this.counts.refused += count;
    this.refusedByReason.set(reason, (this.refusedByReason.get(reason) ?? 0) + count);
    const now = this.deps.clock();
    const last = this.quietRefusals.get(quietKey);
    if (last !== undefined && now - last < QUIET_REFUSAL_MS) return;
    this.quietRefusals.set(quietKey, now);
    if (this.quietRefusals.size > MAX_QUIET_REFUSALS) this.quietRefusals.delete(this.quietRefusals.keys().next().value as string);
    this.deps.log(messages.warning(line));
  }

  private contacted(problem: string | null): void {
    this.contact = problem === null ? { connected: true, at: this.deps.clock(), error: null } : { connected: false, at: this.contact.at, error: problem };
  }
}

/** An http:// URL whose host is not this machine's loopback (where CrowdSec listens by default). */
export function plainHttpAcrossNetwork(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') return false;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = parseAddress(host);
  if (literal !== null) return !(literal.family === 4 ? literal.address.startsWith('127.') : literal.address === '::1');
  return host.toLowerCase() !== 'localhost';
}

async function resolveHost(name: string): Promise<string[]> {
  return (await lookup(name, { all: true })).map((entry) => entry.address);
}

/** Machine and scenario names from the LAPI are someone else's text: keep them plain and bounded. */
function safeName(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9._@:/-]/g, '_').slice(0, 128);
  return clean === '' ? 'unknown' : clean;
}

/** An error as one printable line (it reaches logs and the status RPC). */
function describe(error: unknown): string {
  return error instanceof Error ? error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 300) : 'unknown error';
}
