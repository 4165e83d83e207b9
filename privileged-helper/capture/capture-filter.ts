// Builds the tcpdump/libpcap filter so only candidate scan packets leave the kernel: TCP
// without ACK or RST, and UDP, to the ports we watch, inbound; plus (for the advanced
// modes) this host's own outgoing conversations, so replies to them are recognised. Pure.

export type PortSelector = { readonly kind: 'list'; readonly ports: readonly number[] } | { readonly kind: 'below'; readonly limit: number };

export interface CaptureWatch {
  readonly tcp: PortSelector | null;
  readonly udp: PortSelector | null;
  /** Also capture outgoing TCP SYNs and UDP datagrams (conversation memory). */
  readonly outbound: boolean;
  /**
   * The classic -tcp tripwires: also their peers' ACKs (without SYN or RST), the fact that a
   * handshake completed, which tells a connect from a half-open SYN scan (few packets: these
   * ports have no service but ours).
   */
  readonly tcpHandshake?: PortSelector | null;
  /**
   * The ports the TCP stealth and advanced modes watch, where such a mode runs: SCTP INIT and
   * COOKIE ECHO to them, and IP protocol probes, are watched too (from netfilter's log only:
   * the interface filter leaves them out).
   */
  readonly otherProtocols?: PortSelector | null;
  /** IP_PROTOCOLS_IN_USE: never IP protocol probes (only with otherProtocols, when not empty). */
  readonly ipProtocolsInUse?: readonly number[];
}

function ports(selector: PortSelector): string {
  if (selector.kind === 'below') return `dst portrange 1-${selector.limit}`;
  if (selector.ports.length === 0) throw new Error('a port list to watch cannot be empty');
  return `dst port (${selector.ports.join(' or ')})`;
}

// IPv6 TCP flags are read at a fixed offset (40-byte header + 13): libpcap cannot follow
// extension headers in a filter. So every inbound IPv6 packet that carries a hop-by-hop,
// routing, fragment or destination-options header goes to the decoder, which walks the
// chain; such packets are rare in normal traffic, and a scanner hiding behind one is seen.
const TCP_NO_ACK_V4 = '(ip and tcp[13] & 0x14 == 0)';
const TCP_NO_ACK_V6 = '(ip6 and ip6[6] == 6 and ip6[53] & 0x14 == 0)';
// Hop-by-hop followed by ICMPv6 is multicast listener chatter (MLD), never a scan: kept out.
const IPV6_EXTENSION_HEADERS = '(ip6 and ((ip6[6] == 0 and ip6[40] != 58) or ip6[6] == 43 or ip6[6] == 44 or ip6[6] == 60))';
const TCP_HANDSHAKE_ACK_V4 = '(ip and tcp[13] & 0x16 == 0x10)';
const TCP_HANDSHAKE_ACK_V6 = '(ip6 and ip6[6] == 6 and ip6[53] & 0x16 == 0x10)';
const TCP_SYN_ONLY_V4 = '(ip and tcp[13] & 0x12 == 0x02)';
const TCP_SYN_ONLY_V6 = '(ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02)';

export function buildCaptureFilter(watch: CaptureWatch): string {
  const inbound: string[] = [];
  if (watch.tcp !== null) inbound.push(`(tcp ${ports(watch.tcp)} and (${TCP_NO_ACK_V4} or ${TCP_NO_ACK_V6}))`);
  if (watch.tcpHandshake !== undefined && watch.tcpHandshake !== null) {
    inbound.push(`(tcp ${ports(watch.tcpHandshake)} and (${TCP_HANDSHAKE_ACK_V4} or ${TCP_HANDSHAKE_ACK_V6}))`);
  }
  if (watch.udp !== null) inbound.push(`(udp ${ports(watch.udp)})`);
  if (inbound.length === 0) throw new Error('nothing to watch');
  inbound.push(IPV6_EXTENSION_HEADERS);
  let filter = `(inbound and (${inbound.join(' or ')}))`;
  if (watch.outbound) {
    const outbound = [`${TCP_SYN_ONLY_V4} or ${TCP_SYN_ONLY_V6}`];
    if (watch.udp !== null) outbound.push('udp');
    filter += ` or (outbound and (${outbound.join(' or ')}))`;
  }
  return filter;
}
