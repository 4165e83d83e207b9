// Decodes one captured frame down to what detection needs: direction, addresses, ports,
// TCP flags. Pure and defensive: a truncated or odd packet yields null, never a throw,
// because every byte here comes from whoever is on the network. A packet whose source can
// never be a real remote host (IPv4-mapped, multicast, link-local, ...) is dropped here and
// counted, before any address mapping could turn it into someone else.
//
// Frames come from an interface (Ethernet, raw IP, Linux cooked) or from netfilter's log
// (DLT_NFLOG, `tcpdump -i nflog:N`): there a header names the family and TLVs carry the
// packet, the interfaces it came in or goes out on, and the rule's log prefix, which says
// which of our rules sent it (nflog-capture.ts).

import { parseAddress } from '../../shared/domain/address.js';
import type { AddressFamily, Protocol } from '../../shared/domain/types.js';
import { IPPROTO_SCTP, isProbeProtocol } from './ip-protocols.js';
import { ipv4SourceProblem, ipv6SourceProblem, type SourceProblem } from './source-address.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_NFLOG = 239;

export type Direction = 'in' | 'out' | 'unknown';

/** TCP, UDP, SCTP, or any other IP protocol ('ip': its number in `ipProtocol`, no ports). */
/** 'icmp' (ICMP or ICMPv6): host discovery requests only (see decodeIcmp), ports 0. */
export type PacketProtocol = Protocol | 'sctp' | 'ip' | 'icmp';

export interface DecodedPacket {
  readonly direction: Direction;
  readonly family: AddressFamily;
  readonly source: string;
  readonly destination: string;
  readonly protocol: PacketProtocol;
  /** TCP, UDP and SCTP ports; 0 for other protocols. */
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** TCP flag byte; 0 for the others. */
  readonly tcpFlags: number;
  /** SCTP: the type of the first chunk (INIT 1, COOKIE ECHO 10, ...). */
  readonly sctpChunk?: number;
  /** 'ip': the IPv4 protocol or IPv6 next header after the extension headers. */
  readonly ipProtocol?: number;
  /** IPv4 header longer than 20 bytes: options present. */
  readonly ipOptions: boolean;
  /** The ICMP or ICMPv6 type (protocol 'icmp' only). */
  readonly icmpType?: number;
  /** The log prefix of the nftables rule that sent it (NFLOG frames only; absent when none). */
  readonly logPrefix?: string;
}

/** Packets dropped for an impossible source or a bad checksum; the caller reads and resets them as it likes. */
export interface DecodeCounters {
  badSource: number;
  /** Arriving TCP/UDP segments and SCTP packets whose checksum is wrong: this host's stack drops them unread. */
  badChecksum?: number;
  lastBadSource?: string;
  lastProblem?: SourceProblem;
}

const ETHERTYPE_IPV4 = 0x0800;
/** ARPHRD_LOOPBACK in the cooked headers: traffic of this host with itself, never a scan. */
const ARPHRD_LOOPBACK = 772;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** IPv6 extension headers we step over to reach TCP/UDP. */
const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;

/** Linux "cooked" packet types: 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us. */
function sllDirection(packetType: number): Direction {
  if (packetType === 4) return 'out';
  if (packetType <= 2) return 'in';
  return 'unknown';
}

/**
 * `littleEndian`: the byte order of the host that wrote the capture (the pcap header's), in
 * which NFLOG writes its TLV lengths and types.
 */
export function decodeFrame(linkType: number, frame: Buffer, counters?: DecodeCounters, littleEndian = true): DecodedPacket | null {
  switch (linkType) {
    case LINKTYPE_NFLOG:
      return decodeNflog(frame, counters, littleEndian);
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20) return null;
      return decodeNetwork(frame.readUInt16BE(0), frame.subarray(20), sllDirection(frame[10]!), { loopback: frame.readUInt16BE(8) === ARPHRD_LOOPBACK, counters });
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return null;
      return decodeNetwork(frame.readUInt16BE(14), frame.subarray(16), sllDirection(frame.readUInt16BE(0)), { loopback: frame.readUInt16BE(2) === ARPHRD_LOOPBACK, counters });
    case LINKTYPE_ETHERNET: {
      if (frame.length < 14) return null;
      let etherType = frame.readUInt16BE(12);
      let offset = 14;
      if (etherType === ETHERTYPE_VLAN && frame.length >= 18) {
        etherType = frame.readUInt16BE(16);
        offset = 18;
      }
      return decodeNetwork(etherType, frame.subarray(offset), 'unknown', { loopback: false, counters });
    }
    case LINKTYPE_RAW: {
      const version = frame.length > 0 ? frame[0]! >> 4 : 0;
      return decodeNetwork(version === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, frame, 'unknown', { loopback: false, counters });
    }
    default:
      return null;
  }
}

const AF_INET = 2;
const AF_INET6 = 10;
const NFULA_IFINDEX_INDEV = 4;
const NFULA_IFINDEX_OUTDEV = 5;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;
const NFULA_HWTYPE = 15;

/**
 * One NFLOG frame: a 4-byte header (family, version 0, group), then TLVs of a 16-bit length
 * and type in the writer's byte order, each padded to 4 bytes. A frame that logged on the
 * input path names the interface it came in on (inbound); one from the output path only the
 * one it leaves by (outbound).
 */
function decodeNflog(frame: Buffer, counters: DecodeCounters | undefined, littleEndian: boolean): DecodedPacket | null {
  if (frame.length < 4 || frame[1] !== 0) return null;
  const family = frame[0];
  if (family !== AF_INET && family !== AF_INET6) return null;
  let payload: Buffer | null = null;
  let prefix: string | undefined;
  let inbound = false;
  let outbound = false;
  let loopback = false;
  let offset = 4;
  while (offset + 4 <= frame.length) {
    const length = littleEndian ? frame.readUInt16LE(offset) : frame.readUInt16BE(offset);
    const type = (littleEndian ? frame.readUInt16LE(offset + 2) : frame.readUInt16BE(offset + 2)) & 0x7fff;
    if (length < 4 || offset + length > frame.length) return null;
    const value = frame.subarray(offset + 4, offset + length);
    if (type === NFULA_PAYLOAD) payload = value;
    else if (type === NFULA_PREFIX) prefix = value.toString('latin1').replace(/\0.*$/s, '');
    else if (type === NFULA_IFINDEX_INDEV) inbound = true;
    else if (type === NFULA_IFINDEX_OUTDEV) outbound = true;
    else if (type === NFULA_HWTYPE && value.length >= 2) loopback = value.readUInt16BE(0) === ARPHRD_LOOPBACK;
    offset += (length + 3) & ~3;
  }
  if (payload === null) return null;
  const direction: Direction = inbound ? 'in' : outbound ? 'out' : 'unknown';
  const packet = decodeNetwork(family === AF_INET ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6, payload, direction, { loopback, counters });
  return packet === null || prefix === undefined || prefix === '' ? packet : { ...packet, logPrefix: prefix };
}

interface Vetting {
  /** The frame came in on a loopback interface: this host talking to itself. */
  readonly loopback: boolean;
  readonly counters: DecodeCounters | undefined;
}

/**
 * True when an arriving packet's source is one no remote host can have: the packet is then
 * dropped (and counted). Our own outgoing packets pass (they carry our address), and so does
 * loopback-interface traffic, which is this host talking to itself.
 */
function rejectSource(problem: SourceProblem | null, rawSource: string, direction: Direction, vetting: Vetting): boolean {
  if (problem === null || direction === 'out') return false;
  if (vetting.loopback) return problem === 'loopback' || problem === 'unspecified';
  if (vetting.counters !== undefined) {
    vetting.counters.badSource += 1;
    vetting.counters.lastBadSource = rawSource;
    vetting.counters.lastProblem = problem;
  }
  return true;
}

function decodeNetwork(etherType: number, packet: Buffer, direction: Direction, vetting: Vetting): DecodedPacket | null {
  if (etherType === ETHERTYPE_IPV4) return decodeIpv4(packet, direction, vetting);
  if (etherType === ETHERTYPE_IPV6) return decodeIpv6(packet, direction, vetting);
  return null;
}

function decodeIpv4(packet: Buffer, direction: Direction, vetting: Vetting): DecodedPacket | null {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) return null;
  const headerLength = (packet[0]! & 0x0f) * 4;
  if (headerLength < 20 || packet.length < headerLength) return null;
  // A non-first fragment carries no transport header to read.
  if ((packet.readUInt16BE(6) & 0x1fff) !== 0) return null;
  const source = `${packet[12]}.${packet[13]}.${packet[14]}.${packet[15]}`;
  const destination = `${packet[16]}.${packet[17]}.${packet[18]}.${packet[19]}`;
  if (rejectSource(ipv4SourceProblem(packet[12]!, packet[13]!, packet[14]!, packet[15]!), source, direction, vetting)) return null;
  const totalLength = packet.readUInt16BE(2);
  const pseudo = sum16(packet.subarray(12, 20));
  return decodeTransport(packet[9]!, packet.subarray(headerLength), { direction, family: 4, source, destination, ipOptions: headerLength > 20 }, vetting, {
    pseudo,
    // The first fragment of several: its checksum covers bytes it does not carry.
    length: (packet.readUInt16BE(6) & 0x2000) !== 0 ? -1 : totalLength - headerLength,
  });
}

function decodeIpv6(packet: Buffer, direction: Direction, vetting: Vetting): DecodedPacket | null {
  if (packet.length < 40 || packet[0]! >> 4 !== 6) return null;
  const rawSource = ipv6Text(packet.subarray(8, 24));
  // Judged on the raw bytes: parseAddress below would turn ::ffff:a.b.c.d into a.b.c.d.
  if (rejectSource(ipv6SourceProblem(packet.subarray(8, 24)), rawSource, direction, vetting)) return null;
  const source = parseAddress(rawSource);
  const destination = parseAddress(ipv6Text(packet.subarray(24, 40)));
  if (source === null || destination === null) return null;
  let next = packet[6]!;
  let offset = 40;
  let fragmented = false;
  for (let hops = 0; hops < 8; hops += 1) {
    if (IPV6_EXTENSIONS.has(next)) {
      if (packet.length < offset + 8) return null;
      const length = (packet[offset + 1]! + 1) * 8;
      next = packet[offset]!;
      offset += length;
    } else if (next === IPV6_FRAGMENT) {
      if (packet.length < offset + 8) return null;
      if ((packet.readUInt16BE(offset + 2) & 0xfff8) !== 0) return null;
      fragmented = (packet.readUInt16BE(offset + 2) & 1) !== 0;
      next = packet[offset]!;
      offset += 8;
    } else break;
  }
  if (offset > packet.length) return null;
  const ip = { direction, family: source.family, source: source.address, destination: destination.address, ipOptions: false };
  return decodeTransport(next, packet.subarray(offset), ip, vetting, { pseudo: sum16(packet.subarray(8, 40)), length: fragmented ? -1 : 40 + packet.readUInt16BE(4) - offset, ipv6: true });
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

interface NetworkPart {
  readonly direction: Direction;
  readonly family: AddressFamily;
  readonly source: string;
  readonly destination: string;
  readonly ipOptions: boolean;
}

/** What the transport checksum covers besides the segment: the addresses, and the segment's length by its IP header. */
interface ChecksumContext {
  /** One's-complement sum of the source and destination addresses. */
  readonly pseudo: number;
  /** The transport segment's length as the IP header gives it (the capture may hold less); -1: not checkable (a first fragment). */
  readonly length: number;
  readonly ipv6?: boolean;
}

function decodeTransport(protocol: number, segment: Buffer, ip: NetworkPart, vetting: Vetting, checksum: ChecksumContext): DecodedPacket | null {
  const checked = protocol === IPPROTO_TCP || protocol === IPPROTO_UDP ? checksumWrong(protocol, segment, checksum) : protocol === IPPROTO_SCTP && sctpChecksumWrong(segment, checksum.length);
  if (ip.direction !== 'out' && checked) {
    if (vetting.counters !== undefined) vetting.counters.badChecksum = (vetting.counters.badChecksum ?? 0) + 1;
    return null;
  }
  if (protocol === IPPROTO_TCP) {
    if (segment.length < 14) return null;
    return { ...ip, protocol: 'tcp', sourcePort: segment.readUInt16BE(0), destinationPort: segment.readUInt16BE(2), tcpFlags: segment[13]! };
  }
  if (protocol === IPPROTO_UDP) {
    if (segment.length < 8) return null;
    return { ...ip, protocol: 'udp', sourcePort: segment.readUInt16BE(0), destinationPort: segment.readUInt16BE(2), tcpFlags: 0 };
  }
  if (protocol === IPPROTO_SCTP) {
    // The common header (ports, verification tag, checksum), then the first chunk's type.
    if (segment.length < 13) return null;
    return { ...ip, protocol: 'sctp', sourcePort: segment.readUInt16BE(0), destinationPort: segment.readUInt16BE(2), tcpFlags: 0, sctpChunk: segment[12]! };
  }
  const icmp = decodeIcmp(protocol, segment, ip);
  if (icmp !== null) return icmp;
  // Another protocol only where it can be a probe (ip-protocols.ts): ICMP, tunnels, routing are not.
  return isProbeProtocol(protocol) ? { ...ip, protocol: 'ip', sourcePort: 0, destinationPort: 0, tcpFlags: 0, ipProtocol: protocol } : null;
}

/** CRC32c (Castagnoli, reflected 0x82f63b78), SCTP's checksum (RFC 9260 appendix A). */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * As checksumWrong, for SCTP: true only when the packet is whole in the capture and its
 * CRC32c (over the packet with the checksum field zeroed, stored least significant byte
 * first) is provably wrong (nmap --badsum): this host's stack and conntrack drop it unread.
 */
function sctpChecksumWrong(segment: Buffer, length: number): boolean {
  if (length < 12 || segment.length < length) return false;
  const packet = Buffer.from(segment.subarray(0, length));
  const field = packet.readUInt32LE(8);
  packet.writeUInt32LE(0, 8);
  return crc32c(packet) !== field;
}

// --- Host discovery (engine/host-discovery.ts): ICMP and ICMPv6, the type is all it needs. ---
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

/** An ICMP message of the IP version's own ICMP (ICMPv6 only over IPv6); null for anything else. */
function decodeIcmp(protocol: number, segment: Buffer, ip: NetworkPart): DecodedPacket | null {
  if (protocol !== (ip.family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) || segment.length < 4) return null;
  return { ...ip, protocol: 'icmp', sourcePort: 0, destinationPort: 0, tcpFlags: 0, icmpType: segment[0]! };
}

/** The 16-bit one's-complement sum of a buffer (an odd last byte padded with zero), unfolded. */
function sum16(bytes: Buffer, start = 0): number {
  let sum = start;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += bytes.readUInt16BE(i);
  if (even < bytes.length) sum += bytes[even]! << 8;
  return sum;
}

function fold(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded & 0xffff) + Math.floor(folded / 0x10000);
  return folded;
}

/**
 * True only when the segment is whole in the capture and its checksum is provably wrong: this
 * host's own stack drops such a segment (nmap --badsum, hping3 -b), so it reveals nothing
 * and is no evidence of anything. Two right answers pass: the full checksum, and the
 * partial one a sender on this same machine leaves for the NIC to finish (CHECKSUM_PARTIAL:
 * the field holds the folded pseudo-header sum; a veth pair hands such packets in as they
 * are). A segment cut short by the snapshot length cannot be checked and passes (the kernel
 * trap, which reads conntrack's verdict on the checksum, still judges it).
 */
function checksumWrong(protocol: number, segment: Buffer, context: ChecksumContext): boolean {
  const checksumOffset = protocol === IPPROTO_TCP ? 16 : 6;
  const { length } = context;
  if (length < checksumOffset + 2 || segment.length < length) return false;
  const field = segment.readUInt16BE(checksumOffset);
  // An IPv4 UDP datagram may carry no checksum at all (zero); an IPv6 one must.
  if (protocol === IPPROTO_UDP && field === 0) return context.ipv6 === true;
  const pseudo = context.pseudo + protocol + length;
  if (fold(sum16(segment.subarray(0, length), pseudo)) === 0xffff) return false;
  const partial = fold(pseudo);
  return field !== partial && field !== (partial === 0xffff ? 0 : partial);
}
