// The Windows firewall backend: Windows Defender Firewall through netsh, one inbound block
// rule per address named "PortSentry block <address>". The name is how we recognise our
// rules (and the only ones we ever delete); it is locale-independent, unlike the field
// labels of netsh's output, which Windows translates.
//
// netsh happily adds a second rule with the same name, so block() asks first whether the
// rule exists. Deleting an absent rule fails with "No rules match", which unblock() treats
// as done. Windows Firewall has no per-rule expiry, so BLOCK_TIMEOUT is a timer here.

import { parseBlockTarget } from '../../shared/domain/block-target.js';
import { BlockError, type BlockBackend, type BlockOptions } from './block-backend.js';
import { ExpiryTimers } from '../responders/expiry-timers.js';
import { describeFailure, displayArgv, runTool, type ProgramResult, type ToolRunner } from '../responders/command-runner.js';

export interface WindowsFirewallOptions {
  /** How to run netsh; tests inject a recorder. */
  readonly run?: ToolRunner;
  readonly netsh?: string;
}

export const RULE_PREFIX = 'PortSentry block ';
const NO_MATCH = /No rules match/i;

export class WindowsFirewallBackend implements BlockBackend {
  readonly name = 'windows-firewall';
  readonly prefixes = true;
  private readonly run: ToolRunner;
  private readonly netsh: string;
  private readonly expiries = new ExpiryTimers();

  constructor(options: WindowsFirewallOptions = {}) {
    this.run = options.run ?? runTool;
    this.netsh = options.netsh ?? 'netsh';
  }

  /** Nothing to create; listing proves netsh and the firewall service answer. */
  async start(): Promise<void> {
    await this.list();
  }

  async block(address: string, options: BlockOptions = {}): Promise<void> {
    const canonical = validated(address, 'block');
    const timeout = options.timeoutSeconds ?? 0;
    if (!Number.isInteger(timeout) || timeout < 0) throw new BlockError('invalid-address', `block timeout must be a whole number of seconds, not ${String(timeout)}`);
    const name = ruleName(canonical);
    const existing = await this.firewall(['show', 'rule', `name=${name}`]);
    if (existing.code !== 0) {
      if (!NO_MATCH.test(existing.stdout + existing.stderr)) throw failure(`look up the rule for ${canonical}`, existing);
      const added = await this.firewall(addRuleArgs(canonical));
      if (added.code !== 0) throw failure(`block ${canonical}`, added);
    }
    this.expiries.schedule(canonical, timeout, (expired) => void this.unblock(expired).catch(() => undefined));
  }

  /** The netsh command that adds our rule for the address (block() first checks it is not there). */
  describeBlock(address: string): string {
    return displayArgv([this.netsh, 'advfirewall', 'firewall', ...addRuleArgs(validated(address, 'block'))]);
  }

  async unblock(address: string): Promise<void> {
    const canonical = validated(address, 'unblock');
    this.expiries.cancel(canonical);
    const result = await this.firewall(['delete', 'rule', `name=${ruleName(canonical)}`]);
    if (result.code !== 0 && !NO_MATCH.test(result.stdout + result.stderr)) throw failure(`unblock ${canonical}`, result);
  }

  async list(): Promise<string[]> {
    const result = await this.firewall(['show', 'rule', 'name=all']);
    if (result.code !== 0) {
      if (NO_MATCH.test(result.stdout + result.stderr)) return [];
      throw failure('list the firewall rules', result);
    }
    return parseNetshRules(result.stdout);
  }

  async stop(): Promise<void> {
    this.expiries.cancelAll();
  }

  /** Deletes our rules one by one: `name=all` with delete would take everyone else's too. */
  async remove(): Promise<void> {
    await this.stop();
    for (const address of await this.list()) await this.unblock(address);
  }

  private firewall(args: readonly string[]): Promise<ProgramResult> {
    return this.run([this.netsh, 'advfirewall', 'firewall', ...args]);
  }
}

/** `netsh advfirewall firewall` words that add the inbound block rule for one address or prefix. */
export function addRuleArgs(canonicalAddress: string): string[] {
  return ['add', 'rule', `name=${ruleName(canonicalAddress)}`, 'dir=in', 'action=block', `remoteip=${canonicalAddress}`];
}

export function ruleName(canonicalAddress: string): string {
  return `${RULE_PREFIX}${canonicalAddress}`;
}

/**
 * The addresses of our rules in `netsh advfirewall firewall show rule name=all` output.
 * Only a line whose value is exactly "PortSentry block <valid address>" counts, whatever
 * its (translated) label; an address that does not parse is not ours.
 */
export function parseNetshRules(stdout: string): string[] {
  const addresses: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^[^:]{1,60}:\s+PortSentry block (\S+)\s*$/.exec(line);
    const parsed = match?.[1] === undefined ? null : parseBlockTarget(match[1]);
    // Only a canonical name is one we wrote (unblock deletes by that exact name).
    if (parsed !== null && typeof parsed !== 'string' && parsed.text === match?.[1] && !addresses.includes(parsed.text)) addresses.push(parsed.text);
  }
  return addresses;
}

/** An address or CIDR prefix (both tools take either), canonical. */
function validated(address: string, verb: string): string {
  const parsed = parseBlockTarget(address);
  if (typeof parsed === 'string') throw new BlockError('invalid-address', `refusing to ${verb} "${String(address).slice(0, 60)}" with netsh: ${parsed}`);
  return parsed.text;
}

function failure(what: string, result: ProgramResult): BlockError {
  return new BlockError('command-failed', `netsh could not ${what} (${describeFailure(result)})`);
}
