// The vocabulary shared by every part of the helper: what a probe is, which detection
// mode saw it, and what kind of scan it looks like. Pure types, no I/O.

export type Protocol = 'tcp' | 'udp';

/** The classic PortSentry run modes: tripwire (tcp/udp), stealth (s*) and advanced (a*). */
export type Mode = 'tcp' | 'udp' | 'stcp' | 'sudp' | 'atcp' | 'audp';
export const ALL_MODES: readonly Mode[] = ['tcp', 'udp', 'stcp', 'sudp', 'atcp', 'audp'];

export function protocolOfMode(mode: Mode): Protocol {
  return mode.endsWith('tcp') ? 'tcp' : 'udp';
}

/**
 * What the packet looked like. `connect` is a completed TCP handshake on a tripwire,
 * `udp` any datagram; the others are the stealth TCP probes nmap and friends send.
 */
/**
 * 'ack': a lone ACK that belongs to no conversation (nmap -sA, and -sW, whose probes are the
 * same: only the reading of the RST differs); 'maimon': FIN/ACK with no conversation (nmap -sM).
 */
/**
 * 'sctp-init', 'sctp-cookie-echo': an SCTP packet whose first chunk is INIT or COOKIE ECHO
 * (nmap -sY, -sZ), to a port the TCP stealth/advanced mode watches; 'ip-protocol': a packet
 * of an IP protocol nothing here uses (nmap -sO), whose `port` is the protocol number. The
 * TCP modes watch both, so such a probe's `protocol` is 'tcp' (BLOCK_TCP governs it).
 */
export const ALL_SCAN_KINDS = [
  'connect',
  'udp',
  'syn',
  'fin',
  'null',
  'xmas',
  'odd-flags',
  'ack',
  'maimon',
  'sctp-init',
  'sctp-cookie-echo',
  'ip-protocol',
  'icmp-echo',
  'icmp-timestamp',
  'icmp-mask',
] as const;
/** The one list of kinds: the type, and the protocol's schema (shared/protocol/schemas.ts), come from it. */
export type ScanKind = (typeof ALL_SCAN_KINDS)[number];

/**
 * Host discovery (engine/host-discovery.ts): an ICMP or ICMPv6 echo request, an ICMP timestamp
 * or address-mask request. No port: these are in scan records, never in a port's probe.
 */
export type DiscoveryKind = 'icmp-echo' | 'icmp-timestamp' | 'icmp-mask';
export const DISCOVERY_KINDS: readonly DiscoveryKind[] = ['icmp-echo', 'icmp-timestamp', 'icmp-mask'];

/** What a probe touched, in words: "TCP port 80", "SCTP port 80", "IP protocol 47". */
export function probeTarget(probe: { readonly protocol: Protocol; readonly port: number; readonly kind: ScanKind }): string {
  if (probe.kind === 'ip-protocol') return `IP protocol ${probe.port}`;
  const protocol = probe.kind === 'sctp-init' || probe.kind === 'sctp-cookie-echo' ? 'SCTP' : probe.protocol.toUpperCase();
  return `${protocol} port ${probe.port}`;
}

export type AddressFamily = 4 | 6;

/** One packet or connection that touched something we watch. */
export interface Probe {
  /** Canonical textual address of the sender (see address.ts). */
  readonly source: string;
  readonly family: AddressFamily;
  /** Destination port on this host. */
  readonly port: number;
  readonly protocol: Protocol;
  readonly kind: ScanKind;
  readonly mode: Mode;
  /** Milliseconds since the epoch, from the injected clock. */
  readonly at: number;
  /** Raw TCP flag byte for stealth probes (FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128). */
  readonly tcpFlags?: number;
  /** The IPv4 header carried options (a detection-avoidance hint the original also reports). */
  readonly ipOptions?: boolean;
  /** The kernel trap already put the sender in a blocked set (it said so through netfilter's log). */
  readonly kernelBlocked?: boolean;
}

/** A clock in milliseconds since the epoch; injected so pure code stays testable. */
export type Clock = () => number;
