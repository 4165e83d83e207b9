// The addresses this host protects by what they are, whatever arrives (spoofed scans, RPC
// calls): its own (a spoofed scan from our own address must not cut us off), its default
// gateways and its DNS resolvers. Blocking any of them would cut the host off the network,
// which is exactly what a spoofing attacker would want. Pure parsers of /proc/net/route,
// /proc/net/ipv6_route and resolv.conf, plus thin readers whose files are injectable. Behind systemd-resolved, /etc/resolv.conf names only the stub
// (127.0.0.53); the real upstream servers are in /run/systemd/resolve/resolv.conf, read too.
// The daemon re-reads all of them every few seconds, so a change of resolvers is followed.

import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { parseAddress } from '../../shared/domain/address.js';
import type { HostAddresses } from './never-block.js';

/** Gateways of IPv4 routes, from /proc/net/route (little-endian hex addresses). */
export function parseIpv4RouteGateways(text: string): string[] {
  const gateways = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const hex = fields[2];
    if (hex === undefined || !/^[0-9A-Fa-f]{8}$/.test(hex) || /^0+$/.test(hex)) continue;
    const value = Number.parseInt(hex, 16);
    const address = [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff].join('.');
    const parsed = parseAddress(address);
    if (parsed !== null) gateways.add(parsed.address);
  }
  return [...gateways];
}

/** Next hops of IPv6 routes, from /proc/net/ipv6_route (32 hex digits, big-endian). */
export function parseIpv6RouteGateways(text: string): string[] {
  const gateways = new Set<string>();
  for (const line of text.split('\n')) {
    const hex = line.trim().split(/\s+/)[4];
    if (hex === undefined || !/^[0-9a-fA-F]{32}$/.test(hex) || /^0+$/.test(hex)) continue;
    const parsed = parseAddress(hex.match(/.{4}/g)!.join(':'));
    if (parsed !== null) gateways.add(parsed.address);
  }
  return [...gateways];
}

/** `nameserver` lines of resolv.conf. */
export function parseResolvConfNameservers(text: string): string[] {
  const servers = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    const parsed = match?.[1] === undefined ? null : parseAddress(match[1].replace(/%.*$/, ''));
    if (parsed !== null) servers.add(parsed.address);
  }
  return [...servers];
}

export interface ProtectedAddresses {
  readonly gateways: readonly string[];
  readonly resolvers: readonly string[];
}

/** Where the gateways and resolvers are read from. */
export interface ProtectedAddressFiles {
  readonly ipv4Routes: string;
  readonly ipv6Routes: string;
  /** Every resolv.conf-format file whose nameservers are protected. */
  readonly resolvConfs: readonly string[];
}

export const SYSTEM_PROTECTED_ADDRESS_FILES: ProtectedAddressFiles = {
  ipv4Routes: '/proc/net/route',
  ipv6Routes: '/proc/net/ipv6_route',
  // The system's own list, and systemd-resolved's upstream list: with resolved in stub mode
  // the first names only 127.0.0.53, and the servers that really answer are in the second.
  // (Without resolved the second does not exist; with resolv.conf pointing at it, both agree.)
  resolvConfs: ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'],
};

/** Reads what it can; a missing file (another OS, a container) contributes nothing. */
export async function readProtectedAddresses(files: ProtectedAddressFiles = SYSTEM_PROTECTED_ADDRESS_FILES): Promise<ProtectedAddresses> {
  const read = (path: string) => readFile(path, 'utf8').catch(() => '');
  const [v4, v6, ...resolvs] = await Promise.all([read(files.ipv4Routes), read(files.ipv6Routes), ...files.resolvConfs.map(read)]);
  const resolvers = new Set(resolvs.flatMap((text) => parseResolvConfNameservers(text)));
  return { gateways: [...parseIpv4RouteGateways(v4), ...parseIpv6RouteGateways(v6)], resolvers: [...resolvers] };
}

/** The addresses of this host's interfaces, canonical and sorted. */
export function localAddresses(): string[] {
  const found = new Set<string>();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      const parsed = parseAddress(entry.address);
      if (parsed !== null) found.add(parsed.address);
    }
  }
  return [...found].sort();
}

/**
 * The networks of this host's interfaces ("198.18.0.0/24"), loopback left out: a source in one
 * is a neighbour on the link. IPv6 link-local networks are left out too (such sources are never
 * scanners here: see never-block.ts 'not-unicast').
 */
export function onLinkNetworks(interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string[] {
  const found = new Set<string>();
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.internal || entry.cidr === null || entry.address.toLowerCase().startsWith('fe80:')) continue;
      found.add(entry.cidr);
    }
  }
  return [...found].sort();
}

/** Everything the host protects by nature: own addresses, gateways, resolvers; and its links. The daemon re-reads it. */
export async function hostAddresses(files: ProtectedAddressFiles = SYSTEM_PROTECTED_ADDRESS_FILES): Promise<HostAddresses> {
  const { gateways, resolvers } = await readProtectedAddresses(files);
  return { own: localAddresses(), gateways, resolvers, onLink: onLinkNetworks() };
}
