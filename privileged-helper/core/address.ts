// Strict IP address validation and canonical text form. Every address that reaches a
// firewall command, a file or a log passes through here first, so nothing but a plain
// IPv4 dotted quad or an IPv6 address (no zone, no hostname) can ever be substituted.

import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import type { AddressFamily } from './types.js';

export interface ParsedAddress {
  readonly address: string;
  readonly family: AddressFamily;
}

/**
 * Parses an address as the kernel reports it or a user types it and returns its canonical
 * form: IPv4 dotted quad without leading zeros; IPv6 compressed lower case; an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address it carries. Returns null for
 * anything else (hostnames, zone ids, CIDR suffixes, whitespace, shell syntax).
 */
export function parseAddress(text: string): ParsedAddress | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (isIPv4(text)) {
    // node accepts only canonical dotted quads (no leading zeros, no octal), so text is canonical.
    return { address: text, family: 4 };
  }
  if (!isIPv6(text) || text.includes('%')) return null;
  const canonical = new SocketAddress({ address: text, family: 'ipv6' }).address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical);
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return { address: mapped[1], family: 4 };
  return { address: canonical, family: 6 };
}

export function isValidAddress(text: string): boolean {
  return parseAddress(text) !== null;
}
