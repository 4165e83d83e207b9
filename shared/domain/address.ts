// Strict IP address validation and canonical text form, for all three programs (node-free:
// the renderer has no node:net). Every address that reaches a firewall command, a file or a
// log passes through here first, so nothing but a plain IPv4 dotted quad or an IPv6 address
// (no zone, no hostname, no CIDR) can ever be substituted. The canonical IPv6 text is what
// node's SocketAddress (libuv inet_ntop) prints; test/shared/domain/address.test.ts holds
// the two equal on thousands of inputs. An IPv4-mapped IPv6 address becomes the IPv4 address.

import type { AddressFamily } from './types.js';

export interface ParsedAddress {
  readonly address: string;
  readonly family: AddressFamily;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The canonical form of an IPv4 or IPv6 address, or null (hostnames, zones, CIDR, spaces...). */
export function parseAddress(text: string): ParsedAddress | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (IPV4.test(text)) return { address: text, family: 4 };
  const words = ipv6Words(text);
  if (words === null) return null;
  const canonical = formatIpv6(words);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical);
  if (mapped?.[1] !== undefined) return { address: mapped[1], family: 4 };
  return { address: canonical, family: 6 };
}

export function isValidAddress(text: string): boolean {
  return parseAddress(text) !== null;
}

/** The eight 16-bit words of an IPv6 address in RFC 4291 text form, or null. */
function ipv6Words(text: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseSide = (side: string, allowV4Tail: boolean): number[] | null => {
    if (side === '') return [];
    const groups = side.split(':');
    const words: number[] = [];
    for (const [index, group] of groups.entries()) {
      if (allowV4Tail && index === groups.length - 1 && group.includes('.')) {
        if (!IPV4.test(group)) return null;
        const octets = group.split('.').map(Number) as [number, number, number, number];
        words.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
      } else if (HEX_GROUP.test(group)) {
        words.push(parseInt(group, 16));
      } else {
        return null;
      }
    }
    return words;
  };
  if (halves.length === 1) {
    const words = parseSide(text, true);
    return words !== null && words.length === 8 ? words : null;
  }
  const head = parseSide(halves[0] as string, false);
  const tail = parseSide(halves[1] as string, true);
  if (head === null || tail === null || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** libuv's inet_ntop6 (what node's SocketAddress prints), so both sides agree on every address. */
export function formatIpv6(words: readonly number[]): string {
  let best = { base: -1, len: 0 };
  let current = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      current = current.base === -1 ? { base: i, len: 1 } : { base: current.base, len: current.len + 1 };
    } else if (current.base !== -1) {
      if (best.base === -1 || current.len > best.len) best = current;
      current = { base: -1, len: 0 };
    }
  }
  if (current.base !== -1 && (best.base === -1 || current.len > best.len)) best = current;
  if (best.base !== -1 && best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    const embedsIpv4 = i === 6 && best.base === 0 && (best.len === 6 || (best.len === 7 && words[7] !== 1) || (best.len === 5 && words[5] === 0xffff));
    if (embedsIpv4) {
      const w6 = words[6] as number;
      const w7 = words[7] as number;
      out += `${w6 >> 8}.${w6 & 0xff}.${w7 >> 8}.${w7 & 0xff}`;
      return out;
    }
    out += (words[i] as number).toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}
