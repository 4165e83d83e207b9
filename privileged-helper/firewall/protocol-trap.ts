// The kernel trap's rules for SCTP and IP protocol probes (nmap -sY, -sZ, -sO; issue 24), kept
// apart from the TCP and UDP rules of kernel-trap.ts, which appends them last, after the
// never-block sets, conversations (conntrack established/related, recent peers) and socket
// owners have returned. The TCP stealth and advanced modes watch both, under BLOCK_TCP: SCTP
// INIT and COOKIE ECHO to the ports those modes trap (nft's `socket` knows no SCTP sockets:
// an SCTP service on a watched port must be excluded by hand), and any packet of an IP
// protocol nothing here uses (capture/ip-protocols.ts). Blocked at the first probe, so the
// host's answer (ICMP protocol unreachable, or ABORT where the sctp module is loaded) is never
// sent. Pure: builds nft lines.

import { knownProtocolsNft } from '../capture/ip-protocols.js';

/** kernel-trap.ts's two rule makers: block (add to the blocked set, then the verdict) and unverified (invalid: drop, user space decides). */
export interface TrapRuleMakers {
  readonly block: (match: string, verdict: 'drop', comment: string) => string[];
  readonly unverified: (match: string) => string[];
}

/** `inUse`: IP_PROTOCOLS_IN_USE, never IP protocol probes. */
export function otherProtocolTrapRules(make: TrapRuleMakers, inUse: readonly number[] = []): string[] {
  const sctp = 'meta l4proto sctp sctp dport @trap_tcp';
  return [
    // A bad CRC32c makes conntrack call the packet invalid (nmap --badsum): no evidence, but
    // dropped, so nothing is learned; user space checks the checksum (packet-decoder.ts).
    ...make.unverified(`${sctp} sctp chunk init exists`),
    ...make.unverified(`${sctp} sctp chunk cookie-echo exists`),
    ...make.block(`${sctp} sctp chunk init exists`, 'drop', 'portsentry trap: SCTP'),
    ...make.block(`${sctp} sctp chunk cookie-echo exists`, 'drop', 'portsentry trap: SCTP'),
    // After defragmentation (a fragmented probe is whole here) and past IPv6 extension
    // headers (meta l4proto); ICMP errors quoting our packets are ICMP, which is known.
    ...make.block(`meta l4proto != ${knownProtocolsNft(inUse)}`, 'drop', 'portsentry trap: IP protocol'),
  ];
}
