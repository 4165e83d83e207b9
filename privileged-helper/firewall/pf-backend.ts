// The macOS firewall backend: pf, through pfctl. Everything we own lives in one anchor
// ("portsentry"): a single rule that drops inbound packets from the table
// <portsentry_blocked>, and that table. A block is one table entry (`-T add`), so the cost
// stays flat however many hosts are blocked, like the nftables set on Linux.
//
// pf evaluates an anchor only when the main ruleset refers to it. macOS's /etc/pf.conf
// refers to `anchor "com.apple/*"` only, so either add `anchor "portsentry"` to pf.conf
// (build/README.md shows how) or construct the backend with anchor "com.apple/portsentry".
//
// pf has no per-entry timeout, so BLOCK_TIMEOUT is kept by a timer in this process: a
// block with a timeout outlives a helper restart (the next run lists and keeps it).

import { parseBlockTarget } from '../../shared/domain/block-target.js';
import { BlockError, type BlockBackend, type BlockOptions } from './block-backend.js';
import { describeFailure, displayArgv, runTool, type ProgramResult, type ToolRunner } from '../responders/command-runner.js';
import { ExpiryTimers } from '../responders/expiry-timers.js';

export interface PfOptions {
  /** The anchor we own; we load, flush and delete nothing outside it. */
  readonly anchor?: string;
  readonly table?: string;
  /** How to run pfctl; tests inject a recorder. */
  readonly run?: ToolRunner;
  readonly pfctl?: string;
}

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,30}(\/[A-Za-z0-9_.-]{1,31})?$/;
const TABLE_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,30}$/;
/** pfctl's words when the table (or anchor) is not there yet: nothing to delete or list. */
const TABLE_ABSENT = /Table does not exist|No such file or directory/i;
/** Lines pfctl prints on every call on macOS, never the reason for a failure. */
const PF_NOISE = /ALTQ/;

export class PfBackend implements BlockBackend {
  readonly name = 'pf';
  readonly prefixes = true;
  readonly anchor: string;
  readonly table: string;
  private readonly run: ToolRunner;
  private readonly pfctl: string;
  private readonly expiries = new ExpiryTimers();

  constructor(options: PfOptions = {}) {
    this.anchor = options.anchor ?? 'portsentry';
    this.table = options.table ?? 'portsentry_blocked';
    if (!NAME_PATTERN.test(this.anchor)) throw new BlockError('backend-unavailable', `"${this.anchor}" is not a valid pf anchor name`);
    if (!TABLE_PATTERN.test(this.table)) throw new BlockError('backend-unavailable', `"${this.table}" is not a valid pf table name`);
    this.run = options.run ?? runTool;
    this.pfctl = options.pfctl ?? '/sbin/pfctl';
  }

  /** The anchor's ruleset; the table is not declared so reloading it keeps its entries. */
  rulesText(): string {
    return `block drop in quick from <${this.table}> to any\n`;
  }

  async start(): Promise<void> {
    // -E enables pf with a reference count (macOS): harmless when pf is already on, and it
    // never turns off a firewall someone else enabled. The token is deliberately kept so
    // the blocks keep working after the helper stops (classic behaviour).
    await this.pfctlOk(['-E'], 'enable pf');
    await this.pfctlOk(['-a', this.anchor, '-f', '-'], 'load the anchor rules', this.rulesText());
  }

  async block(address: string, options: BlockOptions = {}): Promise<void> {
    const canonical = validated(address, 'block');
    const timeout = options.timeoutSeconds ?? 0;
    if (!Number.isInteger(timeout) || timeout < 0) throw new BlockError('invalid-address', `block timeout must be a whole number of seconds, not ${String(timeout)}`);
    // "-T add" of an entry that is present reports "0/1 addresses added" and succeeds; a
    // replaced timeout is only a new timer here, so the entry is never out of the table.
    await this.pfctlOk(this.addArgs(canonical), `block ${canonical}`);
    this.expiries.schedule(canonical, timeout, (expired) => void this.unblock(expired).catch(() => undefined));
  }

  /** The pfctl command block() runs: the entry added to our table in our anchor. */
  describeBlock(address: string): string {
    return displayArgv([this.pfctl, ...this.addArgs(validated(address, 'block'))]);
  }

  private addArgs(canonical: string): string[] {
    return ['-a', this.anchor, '-t', this.table, '-T', 'add', canonical];
  }

  async unblock(address: string): Promise<void> {
    const canonical = validated(address, 'unblock');
    this.expiries.cancel(canonical);
    const result = await this.invoke(['-a', this.anchor, '-t', this.table, '-T', 'delete', canonical]);
    if (result.code !== 0 && !TABLE_ABSENT.test(result.stderr)) throw failure(`unblock ${canonical}`, result);
  }

  async list(): Promise<string[]> {
    const result = await this.invoke(['-a', this.anchor, '-t', this.table, '-T', 'show']);
    if (result.code !== 0) {
      if (TABLE_ABSENT.test(result.stderr)) return [];
      throw failure('list the blocked addresses', result);
    }
    return parsePfTableShow(result.stdout);
  }

  async stop(): Promise<void> {
    this.expiries.cancelAll();
  }

  async remove(): Promise<void> {
    await this.stop();
    await this.pfctlOk(['-a', this.anchor, '-F', 'all'], 'flush the anchor');
    const result = await this.invoke(['-a', this.anchor, '-t', this.table, '-T', 'kill']);
    if (result.code !== 0 && !TABLE_ABSENT.test(result.stderr)) throw failure('delete the table', result);
  }

  private invoke(args: readonly string[], stdin?: string): Promise<ProgramResult> {
    return this.run([this.pfctl, ...args], stdin);
  }

  private async pfctlOk(args: readonly string[], what: string, stdin?: string): Promise<ProgramResult> {
    const result = await this.invoke(args, stdin);
    if (result.code !== 0) throw failure(what, result);
    return result;
  }
}

/** `pfctl -T show` prints one entry per line, indented; anything else (ALTQ notes) is skipped. */
export function parsePfTableShow(stdout: string): string[] {
  const addresses: string[] = [];
  for (const raw of stdout.split('\n')) {
    // A host entry may be shown with its full prefix; a network is a prefix block.
    const parsed = parseBlockTarget(raw.trim().replace(/\/(32|128)$/, ''));
    if (typeof parsed !== 'string' && !addresses.includes(parsed.text)) addresses.push(parsed.text);
  }
  return addresses;
}

/** An address or CIDR prefix (both tools take either), canonical. */
function validated(address: string, verb: string): string {
  const parsed = parseBlockTarget(address);
  if (typeof parsed === 'string') throw new BlockError('invalid-address', `refusing to ${verb} "${String(address).slice(0, 60)}" with pfctl: ${parsed}`);
  return parsed.text;
}

function failure(what: string, result: ProgramResult): BlockError {
  return new BlockError('command-failed', `pfctl could not ${what} (${describeFailure({ ...result, stdout: '' }, PF_NOISE)})`);
}
