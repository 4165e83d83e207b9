// The built-in firewall backend: one nftables table of our own (inet family, so IPv4 and
// IPv6 share it), hash sets with kernel-side timeouts, and one drop rule per set in a
// prerouting chain at raw priority (before conntrack, so even established flows from a
// scanner stop). Adding a block adds a set element: O(1) in the kernel and flat in cost
// however many hosts are blocked, unlike one iptables rule per host.
//
// The sets: blocked4 (IPv4 hosts), blocked6 (IPv6 networks of BLOCK_PREFIX6 bits, default
// /64: the drop rule masks the source, so one element covers a whole prefix an attacker
// rotates through), blocked6_hosts (single IPv6 hosts, where the prefix also holds an address
// that must never be blocked), blocked4_nets/blocked6_nets (prefixes of any other length,
// blocked by hand). Prefix-keyed hash sets rather than one `flags interval` set because only
// hash sets can be added to from the packet path (the kernel trap), and a hash lookup stays
// O(1) at a million elements. Every set is sized explicitly (BLOCK_SET_SIZE, default
// 1,000,000; nft's implicit 65,535 let a spoofed flood fill it). When one is full, the blocks
// that lapse soonest, then the oldest, are evicted so the newest scanner is still blocked,
// chosen from what this process knows of the set, without reading it (see makeRoom).
//
// Speed: one long-lived `nft -i` child takes commands on stdin, so a block costs a netlink
// transaction (~0.5 ms), not a process spawn. Exactly one command is in flight. nft prints
// nothing when a change works, so each command is followed by a sentinel,
// `describe ip length`, which nft answers from its own tables without asking the kernel:
// its line on stdout ends the command, and an "Error: ..." line on stderr before it says
// the command failed. (`nft -e` would print an acknowledgement, but echo mode makes nft
// fetch every set element on each command: 430 ms per block with 100,000 blocked hosts,
// measured.) Blocks go in with `add element`, for which an element already present (the
// kernel trap put it there first) is success, per element, inside a batch too. Blocks that
// queue up while one is in flight go out together as one element list: a burst of 5,000
// sources costs a handful of transactions.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BlockError, type BlockBackend, type BlockOptions } from './block-backend.js';
import { BlockIndex } from './block-capacity.js';
import { describeFailure, runProgram } from '../responders/command-runner.js';
import { NFT_TABLE_NAME } from '../../shared/domain/config-keys.js';
import { parseBlockTarget, prefixMask, maskAddress, type BlockTarget } from '../../shared/domain/block-target.js';
import { PARDON_SETS, trapScript, type TrapPlan } from './kernel-trap.js';
import { nftDuration } from './nft-duration.js';
import { nflogCaptureScript, type NflogCapturePlan } from '../capture/nflog-capture.js';
import { secondsLeft } from './block-ledger.js';
import { MonitorParser, watchNftables, type ForeignRemoval, type NftMonitorHandle } from './nft-monitor.js';

export interface NftablesOptions {
  /** Our table's name (NFT_TABLE); we create, change and remove only `inet <table>`. */
  readonly table: string;
  /** How to run nft; a test may prefix it, e.g. ["ip", "netns", "exec", "lab", "nft"]. */
  readonly nftCommand?: readonly [string, ...string[]];
  /** A command that neither succeeds nor fails within this time kills the child. */
  readonly commandTimeoutMs?: number;
  /** Elements each set holds at most (BLOCK_SET_SIZE). */
  readonly setSize?: number;
  /** IPv6 blocks in blocked6 cover this many leading bits (BLOCK_PREFIX6). */
  readonly prefix6?: number;
  /** Warnings for the admin: the sets filling up, evictions. */
  readonly log?: (message: string) => void;
  readonly clock?: () => number;
}

export const TABLE_NAME_PATTERN = NFT_TABLE_NAME;
export const DEFAULT_SET_SIZE = 1_000_000;
export const DEFAULT_PREFIX6 = 64;
const MAX_BATCH = 2048;
/** When a set is full, this share of it is evicted at once, so evictions stay rare. */
const EVICT_SHARE = 0.01;
const READ_SET_TIMEOUT_MS = 15 * 60_000;
const SENTINEL = 'describe ip length';
const SENTINEL_ANSWER = 'payload expression';

export type SetName = 'blocked4' | 'blocked6' | 'blocked6_hosts' | 'blocked4_nets' | 'blocked6_nets';
export const SET_NAMES: readonly SetName[] = ['blocked4', 'blocked6', 'blocked6_hosts', 'blocked4_nets', 'blocked6_nets'];
/** Element counts that mean "the set is full" (ENFILE) or "already there / not there". */
const SET_FULL = /Too many open files|ENFILE|No space left/;
const PER_ELEMENT = /File exists|No such file or directory|does not exist|overlaps/;
/**
 * nft's word when the table or the set itself is gone (it looks them up before it sends
 * anything): never "done" for an element, unlike "Could not process rule: No such file or
 * directory", the kernel's answer about one element that is not there.
 */
const TABLE_OR_SET_GONE = /^No such file or directory$/;
/**
 * How long an unblocked host is pardoned by the classic -tcp trap rule, which blocks at the
 * ACK of an established connection: the scanner's connection that was open when the admin
 * unblocked it (closing, retransmitting) must not put it straight back. A new probe after
 * the unblock is still a probe: the tripwire's accept() reports it and the daemon blocks it.
 */
const PARDON_SECONDS = 600;
/** Process ids of our own nft children, remembered so `nft monitor` can tell our changes from others'. */
const OWN_PIDS_KEPT = 256;

interface PendingChange {
  /** 'replace': add with a new timeout in place of the one the element has (see block()). */
  readonly verb: 'add' | 'replace' | 'delete' | 'sentinel';
  readonly set: SetName;
  /** The element as nft takes it, without its timeout. */
  readonly element: string;
  /** The block's canonical text (what list() returns and the daemon knows). */
  readonly key: string;
  readonly timeoutSeconds: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** Internal changes (evictions) are not told to the eviction listener twice. */
  readonly evicting?: boolean;
}

interface InFlight {
  readonly changes: PendingChange[];
  readonly timer: NodeJS.Timeout;
}

export class NftablesBackend implements BlockBackend {
  readonly name = 'nftables';
  readonly prefixes = true;
  private readonly table: string;
  private readonly nft: readonly [string, ...string[]];
  private readonly commandTimeoutMs: number;
  readonly setSize: number;
  readonly prefix6: number;
  private readonly log: (message: string) => void;
  private readonly clock: () => number;
  private readonly indexes = new Map<SetName, BlockIndex>();
  private child: ChildProcessWithoutNullStreams | null = null;
  private queue: PendingChange[] = [];
  private inFlight: InFlight | null = null;
  /** The error nft reported for the command in flight, if any, until its sentinel arrives. */
  private inFlightError: string | null = null;
  private evictionListener: ((targets: readonly string[], why: string) => void) | null = null;
  private saidFull = new Set<SetName>();
  /** Adds to a full set, waiting while room is made (other sets' changes go on meanwhile). */
  private readonly parked = new Map<SetName, PendingChange[]>();
  /** Our nft processes (oldest first), so the monitor skips what we did ourselves. */
  private readonly ownPids = new Set<number>();

  constructor(options: NftablesOptions) {
    if (!TABLE_NAME_PATTERN.test(options.table)) {
      throw new BlockError('backend-unavailable', `"${options.table}" is not a valid nftables table name (letters, digits, _ and -, 32 at most)`);
    }
    this.table = options.table;
    this.nft = options.nftCommand ?? ['nft'];
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5_000;
    this.setSize = options.setSize ?? DEFAULT_SET_SIZE;
    this.prefix6 = options.prefix6 ?? DEFAULT_PREFIX6;
    if (!Number.isInteger(this.setSize) || this.setSize < 1) throw new BlockError('backend-unavailable', `set size must be a positive whole number, not ${String(this.setSize)}`);
    if (!Number.isInteger(this.prefix6) || this.prefix6 < 1 || this.prefix6 > 128) throw new BlockError('backend-unavailable', `IPv6 block prefix must be 1-128, not ${String(this.prefix6)}`);
    this.log = options.log ?? (() => undefined);
    this.clock = options.clock ?? Date.now;
    for (const set of SET_NAMES) this.indexes.set(set, new BlockIndex(this.setSize));
  }

  setEvictionListener(listener: (targets: readonly string[], why: string) => void): void {
    this.evictionListener = listener;
  }

  /** The source matches of the blocked sets: the drop rules, and capture of repeats (REPEAT_LOG "every"). */
  private blockedSources(): string[] {
    const mask = this.prefix6 === 128 ? '' : ` & ${prefixMask(6, this.prefix6)}`;
    return ['ip saddr @blocked4', `ip6 saddr${mask} @blocked6`, 'ip6 saddr @blocked6_hosts', 'ip saddr @blocked4_nets', 'ip6 saddr @blocked6_nets'];
  }

  /** The ruleset text `start` applies; exposed so tests and docs show exactly what we install. */
  rulesetText(): string {
    const t = `inet ${this.table}`;
    const size = `size ${this.setSize};`;
    // Declaring the table and sets is idempotent, keeps their elements and updates their
    // size; the chain is flushed and its rules added again in the same transaction so a
    // restart never duplicates them and never opens a window without them. blocked6's
    // comment records its prefix, so a changed BLOCK_PREFIX6 is noticed at start.
    return [
      `table ${t} {`,
      `  set blocked4 { type ipv4_addr; flags timeout; ${size} }`,
      `  set blocked6 { type ipv6_addr; flags timeout; ${size} comment "${blocked6Comment(this.prefix6)}"; }`,
      `  set blocked6_hosts { type ipv6_addr; flags timeout; ${size} }`,
      `  set blocked4_nets { type ipv4_addr; flags interval, timeout; ${size} }`,
      `  set blocked6_nets { type ipv6_addr; flags interval, timeout; ${size} }`,
      // Hosts just unblocked, which the -tcp trap's established-ACK rule leaves alone (see PARDON_SECONDS).
      ...PARDON_SETS,
      '  chain prerouting { type filter hook prerouting priority raw; policy accept; }',
      '}',
      `flush chain ${t} prerouting`,
      ...this.blockedSources().map((source) => `add rule ${t} prerouting ${source} counter drop comment "portsentry blackhole"`),
      '',
    ].join('\n');
  }

  async start(): Promise<void> {
    await this.migrateBlocked6();
    await this.runOnce(['-f', '-'], this.rulesetText());
    // Start the persistent nft now, so the first block does not pay for spawning it.
    await this.ready();
  }

  /**
   * blocked6 holds networks of one prefix length. If the table was made with another one
   * (or by a version that kept single hosts there), its elements move to where they keep
   * their meaning: hosts to blocked6_hosts, networks to blocked6_nets, and the set is made anew.
   */
  private async migrateBlocked6(): Promise<void> {
    const described = await this.runOnce(['-t', '-j', 'list', 'set', 'inet', this.table, 'blocked6']).catch(() => null);
    if (described === null) return; // no table yet
    const previous = previousPrefix6(described);
    if (previous === this.prefix6) return;
    const elements = await this.readSet('blocked6', previous ?? 128);
    const t = `inet ${this.table}`;
    const lines = [
      `table ${t} {`,
      '  set blocked6_hosts { type ipv6_addr; flags timeout; }',
      '  set blocked6_nets { type ipv6_addr; flags interval, timeout; }',
      '  chain prerouting { type filter hook prerouting priority raw; policy accept; }',
      '  chain trap { type filter hook prerouting priority mangle; policy accept; }',
      '}',
      // Nothing may refer to the set while it is replaced; start() and the trap put the rules back.
      `flush chain ${t} prerouting`,
      `flush chain ${t} trap`,
      `delete set ${t} blocked6`,
    ];
    const now = this.clock();
    for (let i = 0; i < elements.length; i += MAX_BATCH) {
      const hosts: string[] = [];
      const nets: string[] = [];
      for (const item of elements.slice(i, i + MAX_BATCH)) {
        const timeout = item.expiresAt === null ? '' : ` timeout ${nftDuration(secondsLeft(item.expiresAt, now))}`;
        (item.key.includes('/') ? nets : hosts).push(`${item.key}${timeout}`);
      }
      if (hosts.length > 0) lines.push(`add element ${t} blocked6_hosts { ${hosts.join(', ')} }`);
      if (nets.length > 0) lines.push(`add element ${t} blocked6_nets { ${nets.join(', ')} }`);
    }
    await this.runOnce(['-f', '-'], `${lines.join('\n')}\n`);
    this.log(`WARNING: blocked6 held /${previous ?? 128} blocks and BLOCK_PREFIX6 is now ${this.prefix6}: ${elements.length} blocks moved to blocked6_hosts/blocked6_nets, unchanged in scope`);
  }

  /** Resolves once the persistent nft answers (its first sentinel). */
  private ready(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ verb: 'sentinel', set: 'blocked4', element: '', key: '', timeoutSeconds: 0, resolve, reject });
      this.pump();
    });
  }

  /**
   * What of our structure the kernel lacks: the table, a set or a chain (the trap's when
   * `trap` is armed). Empty when all is there. Lists sets and chains only, never a chain's
   * rules or a set's elements: nft loads every element of a set a rule refers to when it lists
   * that rule (2.4 s for a chain whose set holds 200,000, measured), while these two lists take
   * 15-150 ms whatever the sets hold. A rule deleted on its own is heard by the monitor.
   */
  async verify(trap: TrapPlan | null): Promise<string[]> {
    const sets = await this.runOnce(['-t', '-j', 'list', 'sets', 'inet']);
    const chains = await this.runOnce(['-t', '-j', 'list', 'chains', 'inet']);
    return missingStructure(sets, chains, this.table, trap);
  }

  /** Puts the table, its sets and the drop rules back (idempotent: elements already there stay). */
  async restore(): Promise<void> {
    await this.runOnce(['-f', '-'], this.rulesetText());
  }

  /**
   * Starts hearing removals from our table made by other programs (`nft monitor`); `onGap`
   * when the monitor had to be restarted (anything may have happened meanwhile).
   */
  watch(onRemoval: (removal: ForeignRemoval) => void, onGap: (why: string) => void): NftMonitorHandle {
    const parser = new MonitorParser(this.table, (pid) => this.ownPids.has(pid), onRemoval);
    return watchNftables({ nft: this.nft, parser, onGap });
  }

  /** The blocks an element list from `nft monitor` names (the text between its braces), as canonical keys. */
  removedKeys(set: string, text: string): string[] {
    if (!(SET_NAMES as readonly string[]).includes(set)) return [];
    return parseElementLine(text, set as SetName, this.prefix6, this.clock()).map((element) => element.key);
  }

  private noteOwnPid(pid: number | undefined): void {
    if (pid === undefined) return;
    this.ownPids.add(pid);
    if (this.ownPids.size > OWN_PIDS_KEPT) this.ownPids.delete(this.ownPids.values().next().value!);
  }

  /** Installs or disarms the kernel trap (see kernel-trap.ts); one atomic nft transaction. */
  async setTrap(plan: TrapPlan | null): Promise<void> {
    await this.runOnce(['-f', '-'], trapScript(this.table, plan));
  }

  /** Installs or removes the rules that feed capture from netfilter's log; one nft transaction. */
  async setCapture(plan: NflogCapturePlan | null): Promise<void> {
    await this.runOnce(['-f', '-'], nflogCaptureScript(this.table, plan, this.blockedSources()));
  }

  /** Where a block goes and what nft is told: exposed for log lines and tests. */
  placement(target: BlockTarget): { set: SetName; element: string } {
    if (target.family === 4) return target.prefix === 32 ? { set: 'blocked4', element: target.network } : { set: 'blocked4_nets', element: target.text };
    if (target.prefix === this.prefix6) return { set: 'blocked6', element: target.network };
    return target.prefix === 128 ? { set: 'blocked6_hosts', element: target.network } : { set: 'blocked6_nets', element: target.text };
  }

  /**
   * The nft command that makes the same change as block(): the set and the element (with its
   * timeout) our persistent nft adds. Runnable as it stands; an IPv6 address covered by its
   * BLOCK_PREFIX6 network shows that network, which is what goes into the set.
   */
  describeBlock(address: string, options: BlockOptions = {}): string {
    const target = parseBlockTarget(address);
    if (typeof target === 'string') return `nft (not a block target: ${target})`;
    const { set, element } = this.placement(target);
    const timeout = options.timeoutSeconds !== undefined && options.timeoutSeconds > 0 ? ` timeout ${nftDuration(options.timeoutSeconds)}` : '';
    return `nft add element inet ${this.table} ${set} { ${element}${timeout} }`;
  }

  block(address: string, options: BlockOptions = {}): Promise<void> {
    const timeout = options.timeoutSeconds ?? 0;
    if (!Number.isInteger(timeout) || timeout < 0) {
      return Promise.reject(new BlockError('invalid-address', `block timeout must be a whole number of seconds, not ${String(timeout)}`));
    }
    // A new time (Extend) goes in as "add; delete; add with the timeout" on one line, which
    // nft applies as one transaction: the element is never out of the set, not even between
    // two commands (lifting it and adding it back as two commands left a gap a host could
    // send through). The first add makes the delete safe when the element lapsed meanwhile.
    // Older kernels keep an element's old timeout on a plain `add` (6.18 here updates it, and
    // nft 1.0.6 has no element update), so the replacement relies on neither.
    return this.enqueue(options.replace === true ? 'replace' : 'add', address, timeout);
  }

  unblock(address: string): Promise<void> {
    return this.enqueue('delete', address, 0);
  }

  /** Every block in our sets, as canonical addresses and prefixes; also re-reads the capacity index. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const set of SET_NAMES) {
      const elements = await this.readSet(set, this.prefix6).catch(() => []);
      const index = new BlockIndex(this.setSize);
      const now = this.clock();
      for (const element of elements) {
        out.push(element.key);
        index.note(element.key, element.expiresAt, now);
      }
      this.indexes.set(set, index);
    }
    return out;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }

  /**
   * Disarms the kernel trap of a helper that is gone (killed, crashed) without touching the
   * blocks. Says what it found: no table of ours (nothing is created then), a trap with no
   * rules (the helper disarmed it itself), or one still armed.
   */
  async disarmLeftoverTrap(): Promise<'no-table' | 'not-armed' | 'was-armed'> {
    let chain: string;
    try {
      await this.runOnce(['list', 'table', 'inet', this.table]);
      chain = await this.runOnce(['list', 'chain', 'inet', this.table, 'trap']).catch(() => '');
    } catch (error) {
      if (/No such file or directory/.test((error as Error).message)) return 'no-table';
      throw error;
    }
    const rules = chain.split('\n').filter((line) => /\S/.test(line) && !/^\s*(table |chain |type |policy |\})/.test(line));
    await this.setTrap(null);
    return rules.length > 0 ? 'was-armed' : 'not-armed';
  }

  async remove(): Promise<void> {
    await this.stop();
    try {
      await this.runOnce(['delete', 'table', 'inet', this.table]);
    } catch (error) {
      if (!/No such file or directory/.test((error as Error).message)) throw error;
    }
  }

  private enqueue(verb: 'add' | 'replace' | 'delete', address: string, timeoutSeconds: number, evicting = false): Promise<void> {
    // nft resolves host names itself: only a validated literal address or prefix may reach it.
    const target = parseBlockTarget(address);
    if (typeof target === 'string') return Promise.reject(new BlockError('invalid-address', `refusing to pass "${String(address).slice(0, 64)}" to nft: ${target}`));
    const { set, element } = this.placement(target);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ verb, set, element, key: keyOf(target, set, this.prefix6), timeoutSeconds, resolve, reject, evicting });
      this.pump();
    });
  }

  /** Sends the next batch when nothing is in flight. */
  private pump(): void {
    if (this.inFlight !== null || this.queue.length === 0) return;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = this.interactiveChild();
    } catch (error) {
      this.failAll(new BlockError('backend-unavailable', `cannot run nft: ${(error as Error).message}`));
      return;
    }
    const batch = this.takeBatch();
    const first = batch[0]!;
    const timer = setTimeout(() => this.onCommandTimeout(), this.commandTimeoutMs);
    this.inFlight = { changes: batch, timer };
    if (first.verb === 'sentinel') {
      child.stdin.write(`${SENTINEL}\n`);
      return;
    }
    const elements = batch.map((c) => (c.timeoutSeconds > 0 ? `${c.element} timeout ${nftDuration(c.timeoutSeconds)}` : c.element)).join(', ');
    const into = `element inet ${this.table} ${first.set}`;
    // An unblock pardons the host for the -tcp trap's established-ACK rule in the same
    // transaction (evictions are not unblocks: an evicted scanner's next probe blocks it again).
    const pardonSet = first.set.startsWith('blocked6') ? 'trap_pardon6' : 'trap_pardon4';
    const pardon = first.verb === 'delete' && first.evicting !== true ? `; add element inet ${this.table} ${pardonSet} { ${batch.map((c) => `${c.key} timeout ${PARDON_SECONDS}s`).join(', ')} }` : '';
    const command =
      first.verb === 'replace'
        ? `add ${into} { ${batch.map((c) => c.element).join(', ')} }; delete ${into} { ${batch.map((c) => c.element).join(', ')} }; add ${into} { ${elements} }`
        : `${first.verb} ${into} { ${elements} }${pardon}`;
    child.stdin.write(`${command}\n${SENTINEL}\n`);
  }

  /** Takes the head of the queue and every following change that can share its command. */
  private takeBatch(): PendingChange[] {
    const first = this.queue[0]!;
    if (first.verb === 'sentinel') return this.queue.splice(0, 1);
    const limit = Math.min(MAX_BATCH, this.batchLimits.shift() ?? MAX_BATCH);
    const seen = new Set([first.element]);
    let end = 1;
    while (end < this.queue.length && end < limit) {
      const next = this.queue[end]!;
      if (next.verb !== first.verb || next.set !== first.set) break;
      // The same element twice in one command is an error for nft: it waits for the next.
      if (seen.has(next.element)) break;
      seen.add(next.element);
      end += 1;
    }
    return this.queue.splice(0, end);
  }

  private interactiveChild(): ChildProcessWithoutNullStreams {
    if (this.child !== null) return this.child;
    const [program, ...prefix] = this.nft;
    // Own process group: a terminal's Ctrl-C goes to the daemon, which stops nft itself.
    const child = spawn(program, [...prefix, '-i'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.noteOwnPid(child.pid);
    createInterface({ input: child.stdout }).on('line', (line) => {
      // The command's error (stderr) was written before the sentinel's answer (stdout), but
      // two pipes can be read in either order within one turn of the event loop: settle
      // after the turn, when both have been read.
      if (line.startsWith(SENTINEL_ANSWER)) setImmediate(() => this.settle(this.inFlightError));
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.startsWith('Error:') && this.inFlight !== null && this.inFlightError === null) this.inFlightError = line.slice('Error:'.length).trim();
    });
    child.on('error', (error) => this.onChildGone(child, `nft could not run: ${error.message}`));
    child.on('close', (code, signal) => this.onChildGone(child, `nft exited (${signal ?? `status ${String(code)}`})`));
    child.stdin.on('error', () => undefined); // reported through 'close'
    return child;
  }

  /** The in-flight command finished: null = applied, otherwise nft's error text. */
  private settle(error: string | null): void {
    const inFlight = this.inFlight;
    if (inFlight === null) return;
    clearTimeout(inFlight.timer);
    this.inFlight = null;
    this.inFlightError = null;
    const { changes } = inFlight;
    const first = changes[0]!;
    if (error === null) {
      this.applied(changes);
    } else if (TABLE_OR_SET_GONE.test(error)) {
      // The table or set is gone (another program flushed the ruleset): nothing was done, for
      // any element of the batch. The firewall owner hears of it, restores the table and retries.
      const failure = new BlockError('backend-unavailable', `the nftables set inet ${this.table} ${first.set} is missing (removed by another program?): nothing was changed`);
      for (const change of changes) change.reject(failure);
    } else if (first.verb !== 'delete' && SET_FULL.test(error)) {
      const waiting = this.parked.get(first.set);
      if (waiting !== undefined) waiting.push(...changes);
      else {
        this.parked.set(first.set, [...changes]);
        void this.makeRoom(first.set).finally(() => this.pump());
      }
    } else if (PER_ELEMENT.test(error)) {
      // An element already covered (an interval set refuses an overlap) or already gone: fine
      // for that element. In a batch we cannot tell which one it was, so the batch is split
      // in two and each half sent again: a few commands, never one per element.
      if (changes.length === 1 && first.verb === 'replace') {
        // Only a wider block covers it (an interval set refuses the overlap): a plain add,
        // which counts that as done.
        this.queue.unshift({ ...first, verb: 'add' });
      } else if (changes.length === 1) this.applied(changes);
      else {
        const half = Math.ceil(changes.length / 2);
        this.queue.unshift(...changes);
        this.batchLimits.unshift(half, changes.length - half);
      }
    } else {
      const failure = new BlockError('command-failed', `nft refused the change: ${error}`);
      for (const change of changes) change.reject(failure);
    }
    this.pump();
  }

  /** Sizes of the next batches after a split (so the halves are not merged again). */
  private readonly batchLimits: number[] = [];

  private applied(changes: readonly PendingChange[]): void {
    const now = this.clock();
    for (const change of changes) {
      const index = this.indexes.get(change.set)!;
      if (change.verb === 'add' || change.verb === 'replace') {
        const news = index.note(change.key, change.timeoutSeconds > 0 ? now + change.timeoutSeconds * 1000 : null, now);
        if (news !== null) {
          this.log(
            `WARNING: the nftables set ${change.set} holds ${news.size} of ${news.capacity} blocks (BLOCK_SET_SIZE); when it is full, the blocks that expire soonest, then the oldest, make room for new scanners`,
          );
        }
      } else if (change.verb === 'delete') index.forget(change.key);
      change.resolve();
    }
  }

  /**
   * The set is full. Evict a slice of it (soonest to expire, then oldest) and send the adds
   * again, so the newest scanner is blocked. Said once per set in the log.
   */
  private async makeRoom(set: SetName): Promise<void> {
    const waiting = () => this.parked.get(set) ?? [];
    const count = Math.max(waiting().length, Math.ceil(this.setSize * EVICT_SHARE));
    const now = this.clock();
    const fresh = (keys: string[]) => {
      const adding = new Set(waiting().map((add) => add.key));
      return keys.filter((key) => !adding.has(key));
    };
    const known = this.indexes.get(set)!;
    known.prune(now);
    let victims = fresh(known.victims(count, now));
    // Victims come from what this process knows, never from reading the set on this path:
    // reading a million elements takes nft 50 s on a quiet machine and over two minutes on a
    // loaded one (measured), while the newest scanner waits. What it knows is the whole set
    // in practice: list() read it at start (the daemon's reconciliation), every block made
    // since went through here, and every element the kernel trap adds is learned from the
    // probe capture reports, which the daemon blocks again ("already there" is noted like
    // any add). Elements it never heard of (capture lost them under a flood, another tool)
    // are read in the background when the index falls short of the set, so later evictions
    // follow the policy over the whole set; until then they come from the known blocks.
    // Only when nothing known is left to evict is the set read here, as the last resort.
    if (victims.length > 0 && known.size < this.setSize * (1 - EVICT_SHARE)) this.readInBackground(set);
    if (victims.length === 0) {
      const index = new BlockIndex(this.setSize);
      const elements = await this.readSet(set, this.prefix6).catch((error: Error) => {
        this.log(`ERROR: could not read the nftables set ${set} to choose blocks to evict: ${error.message}`);
        return [];
      });
      for (const element of elements) index.note(element.key, element.expiresAt, now);
      // Keep what was learned meanwhile (the read may take minutes).
      for (const [key, expiresAt] of known.entries()) index.note(key, expiresAt, now);
      this.indexes.set(set, index);
      victims = fresh(index.victims(count, now));
    }
    const adds = waiting();
    this.parked.delete(set);
    if (!this.saidFull.has(set)) {
      this.saidFull.add(set);
      this.log(
        `WARNING: the nftables set ${set} is full (BLOCK_SET_SIZE ${this.setSize}); evicting ${victims.length} blocks, those that expire soonest first, then the oldest, so new scanners are still blocked (said once; later evictions are reported as block removals)`,
      );
    }
    if (victims.length === 0) {
      for (const add of adds) add.reject(new BlockError('command-failed', `nft set ${set} is full and nothing could be evicted`));
      return;
    }
    const deletes: PendingChange[] = victims.map((key) => {
      const target = parseBlockTarget(key) as BlockTarget;
      return { verb: 'delete', set, element: this.placement(target).element, key, timeoutSeconds: 0, resolve: () => undefined, reject: () => undefined, evicting: true };
    });
    // Deletes first, then the adds that did not fit; everything else waits behind them.
    this.queue.unshift(...deletes, ...adds);
    this.evictionListener?.(victims, `evicted: the block set ${set} was full`);
  }

  /** Sets being read in the background to learn elements this process has not seen. */
  private readonly reading = new Set<SetName>();

  private readInBackground(set: SetName): void {
    if (this.reading.has(set)) return;
    this.reading.add(set);
    const started = this.clock();
    this.readSet(set, this.prefix6)
      .then((elements) => {
        const now = this.clock();
        const index = new BlockIndex(this.setSize);
        for (const element of elements) index.note(element.key, element.expiresAt, now);
        // What was added while the read ran is newer than anything it returned.
        for (const [key, until] of this.indexes.get(set)!.entries()) index.note(key, until, now);
        this.indexes.set(set, index);
        this.log(
          `WARNING: the nftables set ${set} held blocks this process had not seen (added by the kernel trap while capture lost their probes, or by another tool); read ${elements.length} from the kernel in the background in ${((now - started) / 1000).toFixed(1)} s, so evictions follow the policy over the whole set`,
        );
      })
      .catch((error: Error) => this.log(`ERROR: could not read the nftables set ${set} in the background: ${error.message}`))
      .finally(() => this.reading.delete(set));
  }

  private onCommandTimeout(): void {
    const inFlight = this.inFlight;
    if (inFlight === null) return;
    this.inFlight = null;
    for (const change of inFlight.changes) change.reject(new BlockError('timeout', `nft did not answer within ${this.commandTimeoutMs} ms`));
    this.child?.kill('SIGKILL');
    this.child = null;
    this.pump();
  }

  private onChildGone(child: ChildProcessWithoutNullStreams, why: string): void {
    if (this.child === child) this.child = null;
    const inFlight = this.inFlight;
    if (inFlight !== null) {
      clearTimeout(inFlight.timer);
      this.inFlight = null;
      for (const change of inFlight.changes) change.reject(new BlockError('backend-unavailable', why));
    }
    this.pump();
  }

  private failAll(error: Error): void {
    const queued = this.queue;
    this.queue = [];
    for (const change of queued) change.reject(error);
  }

  /** Reads one set's elements from the kernel, streamed line by line (a million fit). */
  private readSet(set: SetName, prefix6: number): Promise<Array<{ key: string; expiresAt: number | null }>> {
    const [program, ...prefix] = this.nft;
    const now = this.clock();
    return new Promise((resolve, reject) => {
      const child = spawn(program, [...prefix, 'list', 'set', 'inet', this.table, set], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.noteOwnPid(child.pid);
      const elements: Array<{ key: string; expiresAt: number | null }> = [];
      let inElements = false;
      let stderr = '';
      // A million elements take nft minutes to print on a loaded machine (measured: 2m40s at
      // load 10 on 2 cores), so this read is done only when there is no other way.
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(this.commandTimeoutMs, READ_SET_TIMEOUT_MS));
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!inElements) {
          const at = line.indexOf('elements = {');
          if (at < 0) return;
          inElements = true;
          line = line.slice(at + 'elements = {'.length);
        }
        for (const element of parseElementLine(line, set, prefix6, now)) elements.push(element);
        if (line.includes('}')) inElements = false;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk.slice(0, 2000)));
      child.on('error', (error) => reject(new BlockError('backend-unavailable', `cannot run nft: ${error.message}`)));
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(elements);
        else reject(new BlockError('backend-unavailable', `nft list set ${set}: ${stderr.split('\n').find((l) => l.startsWith('Error:')) ?? `exit status ${String(code)}`}`));
      });
    });
  }

  /** One nft run outside the persistent child: the ruleset, the trap, table removal. */
  private async runOnce(args: readonly string[], input?: string): Promise<string> {
    const result = await runProgram([...this.nft, ...args], {
      ...(input === undefined ? {} : { stdin: input }),
      onSpawn: (pid) => this.noteOwnPid(pid),
      timeoutMs: Math.max(this.commandTimeoutMs, 60_000),
      maxOutputBytes: 64 * 1024 * 1024,
    });
    if (result.code === 0 && result.signal === null) return result.stdout;
    throw new BlockError('backend-unavailable', `nft ${args.join(' ')}: ${describeFailure(result)}`);
  }
}

/**
 * What `nft -t -j list sets inet` and `nft -t -j list chains inet` show missing from what we
 * install in `inet <table>`: the table, each set, the prerouting chain, and with an armed trap
 * its chains. Pure.
 */
export function missingStructure(setsJson: string, chainsJson: string, table: string, trap: TrapPlan | null): string[] {
  const names = (text: string, kind: 'set' | 'chain'): Set<string> | null => {
    try {
      const items = (JSON.parse(text) as { nftables?: Array<Record<string, { name?: string; table?: string; family?: string }>> }).nftables ?? [];
      return new Set(items.flatMap((item) => (item[kind]?.table === table && item[kind]?.family === 'inet' && item[kind]?.name !== undefined ? [item[kind].name] : [])));
    } catch {
      return null;
    }
  };
  const sets = names(setsJson, 'set');
  const chains = names(chainsJson, 'chain');
  if (sets === null || chains === null) return [`a readable listing of the table inet ${table}`];
  if (sets.size === 0 && chains.size === 0) return [`the table inet ${table}`];
  const missing: string[] = [];
  for (const set of [...SET_NAMES, 'trap_pardon4', 'trap_pardon6']) if (!sets.has(set)) missing.push(`the set ${set}`);
  for (const chain of ['prerouting', ...(trap === null ? [] : ['trap', 'trap_out'])]) if (!chains.has(chain)) missing.push(`the chain ${chain}`);
  return missing;
}

function blocked6Comment(prefix6: number): string {
  return `portsentry blocks per /${prefix6}`;
}

/** The prefix blocked6 was made with, from `nft -t -j list set`; null when it has none (hosts). */
export function previousPrefix6(jsonText: string): number | null {
  const match = /portsentry blocks per \/(\d{1,3})/.exec(jsonText);
  return match === null ? null : Number(match[1]);
}

/** The canonical text of a block held in `set` (blocked6 holds bare network addresses). */
function keyOf(target: BlockTarget, set: SetName, prefix6: number): string {
  return set === 'blocked6' && prefix6 < 128 ? `${target.network}/${prefix6}` : target.text;
}

/**
 * The elements on one line of `nft list set` text: "a.b.c.d timeout 1h expires 59m58s120ms,"
 * or "fd00::/32", possibly several per line. Anything that does not parse is skipped.
 */
export function parseElementLine(line: string, set: SetName, prefix6: number, now: number): Array<{ key: string; expiresAt: number | null }> {
  const out: Array<{ key: string; expiresAt: number | null }> = [];
  for (const raw of line.split(',')) {
    const words = raw.replace('}', '').trim().split(/\s+/);
    const text = words[0];
    if (text === undefined || text === '') continue;
    const target = parseBlockTarget(set === 'blocked6' && prefix6 < 128 && !text.includes('/') ? `${maskAddress6(text, prefix6)}/${prefix6}` : text);
    if (typeof target === 'string') continue;
    const expires = words.indexOf('expires');
    const expiresAt = expires >= 0 && words[expires + 1] !== undefined ? now + parseNftDuration(words[expires + 1]!) : null;
    out.push({ key: target.text, expiresAt });
  }
  return out;
}

function maskAddress6(text: string, prefix6: number): string {
  const target = parseBlockTarget(text);
  return typeof target === 'string' || target.family !== 6 ? text : maskAddress(target.network, 6, prefix6);
}

/** "1d2h3m4s5ms" -> milliseconds. */
export function parseNftDuration(text: string): number {
  let ms = 0;
  for (const [, value, unit] of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    const n = Number(value);
    ms += unit === 'd' ? n * 86_400_000 : unit === 'h' ? n * 3_600_000 : unit === 'm' ? n * 60_000 : unit === 's' ? n * 1000 : n;
  }
  return ms;
}
