// Host discovery sweeps: what `nmap -sn` and friends send to learn that a host is up (ICMP
// echo -PE, timestamp -PP, address mask -PM, ICMPv6 echo; hping3 --icmp). What counts, and why:
//
// - An ICMP timestamp or address-mask request is a sweep from anyone: no printer, router,
//   phone or desktop sends them in ordinary use (psad flags them too); nmap's -PP, -PM and its
//   default -sn probes (with --send-ip) do.
// - An echo request from off-link (a source outside this host's interface networks) is a
//   sweep: whoever pings us from elsewhere is asking whether we are up.
// - An echo request from an ON-LINK neighbour is not: printers, routers, phones and `ping`
//   send them all day, and on the link nmap sweeps with ARP (its default there, even with -PE),
//   which every host sends and no one can tell from ordinary traffic.
//
// Only requests reach this module: replies to this host's own pings (echo reply, and anything
// conntrack calls established or related) never match the capture rule (capture/nflog-capture.ts),
// and this host's own outgoing requests are not inbound. TCP and UDP pings (-PS, -PA, -PU) to a
// watched port are port probes already, judged as such; they are not counted here a second time.
// Pure: the daemon says whether the source is on-link and what HOST_DISCOVERY asks.

import type { HostDiscovery } from '../../shared/domain/config-keys.js';
import type { AddressFamily, DiscoveryKind } from '../../shared/domain/types.js';

/** One discovery request to one of this host's addresses. */
export interface Discovery {
  readonly source: string;
  readonly family: AddressFamily;
  readonly kind: DiscoveryKind;
  readonly at: number;
}

export type DiscoveryVerdict = 'silent' | 'report' | 'block';

const ICMP_ECHO_REQUEST = 8;
const ICMP_TIMESTAMP_REQUEST = 13;
const ICMP_ADDRESS_MASK_REQUEST = 17;
const ICMPV6_ECHO_REQUEST = 128;

/** The discovery kind of an ICMP (IPv4) or ICMPv6 type; null for every other type (replies, errors, neighbour discovery). */
export function discoveryKind(family: AddressFamily, icmpType: number): DiscoveryKind | null {
  if (family === 6) return icmpType === ICMPV6_ECHO_REQUEST ? 'icmp-echo' : null;
  if (icmpType === ICMP_ECHO_REQUEST) return 'icmp-echo';
  if (icmpType === ICMP_TIMESTAMP_REQUEST) return 'icmp-timestamp';
  if (icmpType === ICMP_ADDRESS_MASK_REQUEST) return 'icmp-mask';
  return null;
}

/** What a request gets: an on-link neighbour's echo nothing, any other request what HOST_DISCOVERY asks. */
export function judgeDiscovery(kind: DiscoveryKind, onLink: boolean, policy: HostDiscovery): DiscoveryVerdict {
  if (policy === 'off') return 'silent';
  if (kind === 'icmp-echo' && onLink) return 'silent';
  return policy;
}

/** The sweep's name in the log line, in 1.2's manner ("ICMP echo sweep from host: ..."). */
export function sweepWords(kind: DiscoveryKind, family: AddressFamily): string {
  if (kind === 'icmp-timestamp') return 'ICMP timestamp sweep';
  if (kind === 'icmp-mask') return 'ICMP address mask sweep';
  return family === 6 ? 'ICMPv6 echo sweep' : 'ICMP echo sweep';
}
