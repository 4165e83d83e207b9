// SCTP and IP protocol probes (nmap -sY, -sZ, -sO): which SCTP chunks and which IP protocols
// are probes, one list for the kernel trap, the NFLOG capture rules and the detector, so the
// kernel and user space decide alike. Pure.
//
// A host without an SCTP stack (this kernel has none) answers an INIT with ICMP protocol
// unreachable (IPv6: parameter problem), one with the sctp module with ABORT; a host answers a
// packet of a protocol it has no handler or raw socket for with ICMP protocol unreachable
// (IPv6: parameter problem, unrecognized next header). Either answer is what nmap reads; the
// trap drops the first probe before the kernel can give it.

import type { ScanKind } from '../../shared/domain/types.js';

export const IPPROTO_SCTP = 132;
/** SCTP chunk types that open an association: INIT (nmap -sY) and COOKIE ECHO (nmap -sZ). */
export const SCTP_INIT = 1;
export const SCTP_COOKIE_ECHO = 10;

/**
 * IP protocols (IPv4 protocol / IPv6 next header) whose packets are never probes: the host
 * meets them in normal use, or they are watched otherwise. Reasons, by group:
 * - 1 ICMP, 58 ICMPv6: pings, errors quoting our own packets, neighbour discovery (host
 *   discovery sweeps are judged elsewhere);
 * - 2 IGMP: multicast group queries from routers and snooping switches arrive unasked;
 * - 6 TCP, 17 UDP, 132 SCTP: watched by port; 136 UDP-Lite: the kernel implements it and
 *   answers it as UDP;
 * - 4 IPIP, 41 IPv6-in-IPv4, 47 GRE, 97 EtherIP, 115 L2TPv3, 137 MPLS-in-IP: tunnels, whose
 *   far end may speak first; 50 ESP, 51 AH: IPsec;
 * - 88 EIGRP, 89 OSPF, 103 PIM, 112 VRRP/CARP: routing and failover chatter a LAN carries;
 * - 0, 43, 44, 60, 135, 139, 140 (hop-by-hop, routing, fragment, destination options,
 *   mobility, HIP, shim6) and 59 (no next header): IPv6 extension headers, not protocols
 *   (and an event names protocol 0 by no port).
 * The host's own conversations in any protocol are left alone besides (conntrack: established),
 * and so are the protocols root names in IP_PROTOCOLS_IN_USE (a tunnel or routing daemon whose
 * peer may speak first).
 */
export const KNOWN_IP_PROTOCOLS: readonly number[] = [0, 1, 2, 4, 6, 17, 41, 43, 44, 47, 50, 51, 58, 59, 60, 88, 89, 97, 103, 112, 115, 132, 135, 136, 137, 139, 140];

/**
 * The nft set expression of KNOWN_IP_PROTOCOLS and the ones the admin says this host uses
 * (IP_PROTOCOLS_IN_USE), for `meta l4proto != ...`.
 */
export function knownProtocolsNft(inUse: readonly number[] = []): string {
  return `{ ${[...new Set([...KNOWN_IP_PROTOCOLS, ...inUse])].sort((a, b) => a - b).join(', ')} }`;
}

/** The kind of an SCTP packet by its first chunk's type, or null when it opens nothing. */
export function classifySctpChunk(chunk: number): ScanKind | null {
  if (chunk === SCTP_INIT) return 'sctp-init';
  if (chunk === SCTP_COOKIE_ECHO) return 'sctp-cookie-echo';
  return null;
}

/** True when a packet of this IP protocol is a probe (nmap -sO); `inUse`: IP_PROTOCOLS_IN_USE. */
export function isProbeProtocol(protocol: number, inUse: readonly number[] = []): boolean {
  return Number.isInteger(protocol) && protocol >= 0 && protocol <= 255 && !KNOWN_IP_PROTOCOLS.includes(protocol) && !inUse.includes(protocol);
}
