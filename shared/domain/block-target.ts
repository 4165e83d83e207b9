// What a block covers: one address or a CIDR prefix, IPv4 or IPv6. Parses and canonicalises
// the text a caller gives ("198.18.0.0/24", "fd00:5e::/64", a bare address), masks an address
// to a prefix (an IPv6 scanner is blocked by its /64 by default), and answers whether a prefix
// touches a protected network. Pure and node-free: the protocol's schema checks a block's
// target with it, before anything reaches the helper.

import { formatIpv6, parseAddress } from './address.js';
import { printable } from './text.js';
import type { AddressFamily } from './types.js';

export interface BlockTarget {
  readonly family: AddressFamily;
  /** The network address (host bits zero), canonical. */
  readonly network: string;
  readonly prefix: number;
  /** Canonical text: the bare address for a single host (/32, /128), else "network/prefix". */
  readonly text: string;
}

/** A protected network (own address, gateway, resolver, ignore entry) and why. */
export interface ProtectedNetwork {
  readonly address: string;
  readonly family: AddressFamily;
  readonly prefix: number;
  readonly why: string;
}

/**
 * Parses "address" or "address/prefix". Host bits set under the prefix are refused rather
 * than silently cleared, so "198.18.0.5/24" is an error that names 198.18.0.0/24: the caller
 * meant one of the two and we do not guess which.
 */
export function parseBlockTarget(text: string): BlockTarget | string {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return 'not an IPv4 or IPv6 address or prefix';
  const [addressText, prefixText, extra] = text.split('/');
  if (extra !== undefined || addressText === undefined) return 'not an IPv4 or IPv6 address or prefix';
  const parsed = parseAddress(addressText);
  if (parsed === null) return `"${printable(addressText, 45)}" is not an IPv4 or IPv6 address`;
  // ::ffff:a.b.c.d/n would be an IPv4 network written as IPv6: refused, write the IPv4 form.
  if (prefixText !== undefined && parsed.family === 4 && addressText.includes(':')) return 'an IPv4-mapped IPv6 prefix is not accepted; write the IPv4 network';
  const max = parsed.family === 4 ? 32 : 128;
  if (prefixText === undefined) return hostTarget(parsed.address, parsed.family);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `"/${printable(prefixText, 8)}" is not a prefix length for IPv${parsed.family} (0-${max})`;
  const prefix = Number(prefixText);
  const network = maskAddress(parsed.address, parsed.family, prefix);
  if (network !== parsed.address) return `${parsed.address}/${prefix} has host bits set; the network is ${network}/${prefix}`;
  return targetOf(network, parsed.family, prefix);
}

/** The block that covers `address` when blocks aggregate to `prefix` (IPv4 always /32). */
export function aggregateTarget(address: string, family: AddressFamily, prefix6: number): BlockTarget {
  if (family === 4 || prefix6 >= 128) return hostTarget(address, family);
  return targetOf(maskAddress(address, family, prefix6), family, prefix6);
}

export function hostTarget(address: string, family: AddressFamily): BlockTarget {
  return { family, network: address, prefix: family === 4 ? 32 : 128, text: address };
}

function targetOf(network: string, family: AddressFamily, prefix: number): BlockTarget {
  const host = family === 4 ? 32 : 128;
  return { family, network, prefix, text: prefix === host ? network : `${network}/${prefix}` };
}

/** The first protected network the target overlaps (contains, or lies inside), or null. */
export function protectedOverlap(target: BlockTarget, networks: Iterable<ProtectedNetwork>): ProtectedNetwork | null {
  const bits = toBits(target.network, target.family);
  for (const candidate of networks) {
    if (candidate.family !== target.family) continue;
    const common = Math.min(candidate.prefix, target.prefix);
    if (samePrefix(bits, toBits(candidate.address, candidate.family), common)) return candidate;
  }
  return null;
}

/**
 * Whether `outer` (a block or ignore entry: an address or "network/prefix") covers `inner` (an
 * address or a range): the same, or a range that contains it. A range block is what blocks
 * every host in it, so every surface that says "blocked" asks this, not string equality; an
 * ignore entry lifts the blocks it covers.
 */
export function blockCovers(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const a = looseTarget(outer);
  const b = looseTarget(inner);
  if (a === null || b === null || a.family !== b.family || a.prefix > b.prefix) return false;
  return samePrefix(toBits(a.address, a.family), toBits(b.address, b.family), a.prefix);
}

/** "address[/prefix]" without the host-bit rule (an ignore file may say 198.18.0.5/24). */
function looseTarget(text: string): { address: string; family: AddressFamily; prefix: number } | null {
  const [addressText = '', prefixText, extra] = text.split('/');
  const parsed = parseAddress(addressText);
  if (parsed === null || extra !== undefined) return null;
  const max = parsed.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  return prefix >= 0 && prefix <= max ? { address: parsed.address, family: parsed.family, prefix } : null;
}

/** Clears every bit after the first `prefix` bits of a canonical address. */
export function maskAddress(address: string, family: AddressFamily, prefix: number): string {
  const bits = toBits(address, family);
  const total = family === 4 ? 32 : 128;
  for (let i = prefix; i < total; i += 1) bits[i] = 0;
  return fromBits(bits, family);
}

/** The address as a number (IPv4 32 bits, IPv6 128 bits), for counting and comparing ranges. */
export function addressValue(address: string, family: AddressFamily): bigint {
  return toBits(address, family).reduce((acc, bit) => (acc << 1n) | BigInt(bit), 0n);
}

/** The nft mask for a prefix length, e.g. 64 -> "ffff:ffff:ffff:ffff::". */
export function prefixMask(family: AddressFamily, prefix: number): string {
  const total = family === 4 ? 32 : 128;
  const bits = Array.from({ length: total }, (_, i) => (i < prefix ? 1 : 0));
  return fromBits(bits, family);
}

function samePrefix(a: number[], b: number[], length: number): boolean {
  for (let i = 0; i < length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function toBits(address: string, family: AddressFamily): number[] {
  const bytes = family === 4 ? address.split('.').map(Number) : ipv6Bytes(address);
  const bits: number[] = [];
  for (const byte of bytes) for (let i = 7; i >= 0; i -= 1) bits.push((byte >> i) & 1);
  return bits;
}

function fromBits(bits: readonly number[], family: AddressFamily): string {
  const bytes: number[] = [];
  for (let i = 0; i < bits.length; i += 8) bytes.push(bits.slice(i, i + 8).reduce((acc, bit) => (acc << 1) | bit, 0));
  if (family === 4) return bytes.join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  // Not parseAddress: a network such as ::ffff:0:0/96 must stay IPv6, not become IPv4.
  return formatIpv6(words);
}

function ipv6Bytes(address: string): number[] {
  let text = address;
  // A trailing dotted quad (::ffff:1.2.3.4 style) becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad !== null) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...fill, ...tailGroups];
  const bytes: number[] = [];
  for (const group of groups) {
    const value = parseInt(group, 16);
    bytes.push((value >> 8) & 0xff, value & 0xff);
  }
  return bytes;
}
