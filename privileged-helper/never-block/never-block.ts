// What the helper never blocks, in one place: the ignore file's entries, the host's own
// addresses, its default gateways and DNS resolvers (host-addresses.ts reads them), the
// fleet's CrowdSec LAPI when the host is in one (fleet/fleet-sync.ts learns it), and
// sources no remote host can have (loopback, multicast, link-local, IPv4-mapped...). The
// engine asks it about each scanner, a block by hand asks it about a prefix, and the kernel
// trap is given its networks, so the three can never disagree. Pure: node's BlockList, no I/O.

import { BlockList } from 'node:net';
import { parseAddress } from '../../shared/domain/address.js';
import { maskAddress, type ProtectedNetwork } from '../../shared/domain/block-target.js';
import type { AddressFamily } from '../../shared/domain/types.js';
import { IMPOSSIBLE_SOURCE_NETWORKS, sourceProblem } from '../capture/source-address.js';
import type { IgnoreEntry } from '../config/ignore-list.js';

export type NeverBlockReason = 'own-address' | 'gateway' | 'dns-resolver' | 'fleet-server' | 'ignore-list' | 'not-unicast';

/** Addresses that are protected by what they are, not by the ignore file. */
export interface HostAddresses {
  readonly own: Iterable<string>;
  readonly gateways?: Iterable<string>;
  readonly resolvers?: Iterable<string>;
  /** The fleet's CrowdSec LAPI: blocked, it would cut the host off from the fleet (one spoofed scan would do). */
  readonly fleetServers?: Iterable<string>;
  /**
   * The networks of this host's interfaces ("198.18.0.0/24"): a source inside one is a
   * neighbour on the link (the scan score weighs its LAN service touches less). Never a reason
   * not to block.
   */
  readonly onLink?: Iterable<string>;
}

/** Addresses that are this host's whatever its interfaces say; 0.0.0.0 and :: are never real scanners (1.2 shipped 0.0.0.0 in its ignore file). */
const ALWAYS_OWN = ['127.0.0.1', '0.0.0.0', '::1', '::'];

/** A network no block may cover: an ignore entry, or one of the host's addresses as /32 or /128. */
type Network = Omit<IgnoreEntry, 'line'>;

/** What the kernel trap must never add to a block set: networks, and single host addresses. */
export interface TrapNeverBlock {
  readonly ignore: readonly Network[];
  readonly host: readonly string[];
  /** The host's interface networks (not protected: the trap leaves their LAN service touches to the score). */
  readonly onLink?: readonly Network[];
}

/** Answers "may this address ever be blocked?". Rebuilt whenever its inputs change. */
export class NeverBlock {
  private readonly list = new BlockList();
  private readonly protectedBy = new Map<string, NeverBlockReason>();
  private readonly host: HostAddresses;
  private networkList: ProtectedNetwork[] | null = null;
  private readonly links = new BlockList();
  private readonly linkNetworks: Network[] = [];

  constructor(
    private readonly entries: readonly Network[],
    host: HostAddresses | Iterable<string>,
  ) {
    for (const entry of entries) {
      const type = entry.family === 4 ? 'ipv4' : 'ipv6';
      this.list.addSubnet(entry.address, entry.prefix, type);
    }
    const addresses: HostAddresses =
      Symbol.iterator in host
        ? { own: [...host] }
        : { own: [...host.own], gateways: [...(host.gateways ?? [])], resolvers: [...(host.resolvers ?? [])], fleetServers: [...(host.fleetServers ?? [])], onLink: [...(host.onLink ?? [])] };
    this.host = addresses;
    for (const text of addresses.onLink ?? []) {
      const network = parseNetwork(text);
      if (network === null) continue;
      this.links.addSubnet(network.address, network.prefix, network.family === 4 ? 'ipv4' : 'ipv6');
      this.linkNetworks.push(network);
    }
    for (const address of addresses.fleetServers ?? []) this.protectedBy.set(address, 'fleet-server');
    for (const address of addresses.resolvers ?? []) this.protectedBy.set(address, 'dns-resolver');
    for (const address of addresses.gateways ?? []) this.protectedBy.set(address, 'gateway');
    for (const address of [...ALWAYS_OWN, ...addresses.own]) this.protectedBy.set(address, 'own-address');
  }

  /** The networks a block (a host or a prefix) must not overlap, each with why, for a block by hand or an IPv6 prefix. */
  networks(): readonly ProtectedNetwork[] {
    if (this.networkList !== null) return this.networkList;
    const list: ProtectedNetwork[] = this.entries.map((entry) => ({ ...entry, why: describeNeverBlockReason('ignore-list') }));
    list.push({ address: '127.0.0.0', family: 4, prefix: 8, why: describeNeverBlockReason('own-address') });
    const add = (addresses: Iterable<string>, why: string) => {
      for (const text of addresses) {
        const parsed = parseAddress(text);
        if (parsed !== null) list.push({ address: parsed.address, family: parsed.family, prefix: parsed.family === 4 ? 32 : 128, why });
      }
    };
    add([...ALWAYS_OWN, ...this.host.own], describeNeverBlockReason('own-address'));
    add(this.host.gateways ?? [], describeNeverBlockReason('gateway'));
    add(this.host.resolvers ?? [], describeNeverBlockReason('dns-resolver'));
    add(this.host.fleetServers ?? [], describeNeverBlockReason('fleet-server'));
    this.networkList = list;
    return list;
  }

  /**
   * What the kernel trap must never add: the ignore networks, the sources no remote host can
   * have (one forged IPv6 packet must not put ::ffff:a.b.c.d in blocked6), the host's addresses.
   */
  forKernelTrap(): TrapNeverBlock {
    return {
      ignore: [...this.entries, ...IMPOSSIBLE_SOURCE_NETWORKS],
      host: [...this.host.own, ...(this.host.gateways ?? []), ...(this.host.resolvers ?? []), ...(this.host.fleetServers ?? [])],
      onLink: this.linkNetworks,
    };
  }

  /** True when the address is inside one of the host's interface networks (a neighbour on the link). */
  isOnLink(address: string, family: AddressFamily): boolean {
    return this.links.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Null when the address may be blocked, else why it may not. Address must be canonical. */
  reasonToIgnore(address: string, family: AddressFamily): NeverBlockReason | null {
    const reason = this.protectedBy.get(address);
    if (reason !== undefined) return reason;
    if (family === 4 && address.startsWith('127.')) return 'own-address';
    // Loopback, multicast, link-local, v4-mapped...: no remote scanner has such an address.
    if (sourceProblem(address) !== null) return 'not-unicast';
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6') ? 'ignore-list' : null;
  }
}

/** "address/prefix" as a canonical network (host bits cleared), or null. */
function parseNetwork(text: string): Network | null {
  const slash = text.indexOf('/');
  const parsed = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (parsed === null) return null;
  const width = parsed.family === 4 ? 32 : 128;
  const prefix = slash < 0 ? width : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > width) return null;
  return { address: maskAddress(parsed.address, parsed.family, prefix), family: parsed.family, prefix };
}

/** Words for logs and events. */
export function describeNeverBlockReason(reason: NeverBlockReason): string {
  switch (reason) {
    case 'own-address':
      return "one of this host's own addresses";
    case 'gateway':
      return "this host's default gateway";
    case 'dns-resolver':
      return "one of this host's DNS resolvers";
    case 'fleet-server':
      return "the fleet's CrowdSec LAPI";
    case 'ignore-list':
      return 'in the ignore list';
    case 'not-unicast':
      return 'not an address a remote host can have (loopback, multicast, link-local, IPv4-mapped or reserved)';
  }
}
