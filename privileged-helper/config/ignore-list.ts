// The never-block policy: the IGNORE_FILE entries (single addresses or CIDR networks, IPv4
// and IPv6, `#` comments) plus the host's own addresses, which are always ignored whatever
// the file says. Parsing is pure; matching uses node's BlockList (no I/O).

import { BlockList } from 'node:net';
import { ConfigError } from './conf-file.js';
import { parseIgnoreEntry } from '../../shared/domain/ignore-entry.js';

export { parseIgnoreEntry };
import { sourceProblem } from '../capture/source-address.js';

export interface IgnoreEntry {
  readonly address: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  readonly line: number;
}

/** Parses an ignore file. Throws ConfigError naming the line of the first bad entry. */
export function parseIgnoreText(text: string, file: string): IgnoreEntry[] {
  const entries: IgnoreEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    // Classic ignore files allow a trailing comment after the address.
    const content = raw.replace(/#.*$/, '').trim();
    if (content === '') return;
    const entry = parseIgnoreEntry(content);
    if (typeof entry === 'string') throw new ConfigError(file, line, entry);
    entries.push({ ...entry, line });
  });
  return entries;
}

export type IgnoreReason = 'own-address' | 'gateway' | 'dns-resolver' | 'ignore-list' | 'not-unicast';

/** Addresses that are protected by what they are, not by the ignore file. */
export interface HostAddresses {
  readonly own: Iterable<string>;
  readonly gateways?: Iterable<string>;
  readonly resolvers?: Iterable<string>;
}

/** Answers "may this address ever be blocked?". Rebuilt whenever its inputs change. */
export class IgnorePolicy {
  private readonly list = new BlockList();
  private readonly protectedBy = new Map<string, IgnoreReason>();

  constructor(entries: readonly Omit<IgnoreEntry, 'line'>[], host: HostAddresses | Iterable<string>) {
    for (const entry of entries) {
      const type = entry.family === 4 ? 'ipv4' : 'ipv6';
      this.list.addSubnet(entry.address, entry.prefix, type);
    }
    const addresses: HostAddresses = Symbol.iterator in host ? { own: host } : host;
    for (const address of addresses.resolvers ?? []) this.protectedBy.set(address, 'dns-resolver');
    for (const address of addresses.gateways ?? []) this.protectedBy.set(address, 'gateway');
    // 0.0.0.0 and :: are never real scanners; the original shipped 0.0.0.0 in its ignore file.
    for (const address of ['127.0.0.1', '0.0.0.0', '::1', '::', ...addresses.own]) this.protectedBy.set(address, 'own-address');
  }

  /** Null when the address may be blocked, else why it may not. Address must be canonical. */
  reasonToIgnore(address: string, family: 4 | 6): IgnoreReason | null {
    const reason = this.protectedBy.get(address);
    if (reason !== undefined) return reason;
    if (family === 4 && address.startsWith('127.')) return 'own-address';
    // Loopback, multicast, link-local, v4-mapped...: no remote scanner has such an address.
    if (sourceProblem(address) !== null) return 'not-unicast';
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6') ? 'ignore-list' : null;
  }
}

/** Words for logs and events. */
export function describeIgnoreReason(reason: IgnoreReason): string {
  switch (reason) {
    case 'own-address':
      return "one of this host's own addresses";
    case 'gateway':
      return "this host's default gateway";
    case 'dns-resolver':
      return "one of this host's DNS resolvers";
    case 'ignore-list':
      return 'in the ignore list';
    case 'not-unicast':
      return 'not an address a remote host can have (loopback, multicast, link-local, IPv4-mapped or reserved)';
  }
}
