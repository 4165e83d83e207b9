// The kernel trap: for the stealth and advanced modes, the first probe blocks its sender
// inside the kernel, before any reply (RST, ICMP) reveals a port's state and before user
// space hears of it. An nftables chain in our table matches a probe (TCP without ACK or
// RST, or UDP) to a watched port that no socket on this host owns, from a source not on the
// never-block lists, adds the source to blocked4/blocked6 and drops the packet. The daemon
// still sees the probe through packet capture and logs and records it as usual; its own
// block of the same address then finds it already there.
//
// Only what user space would decide the same way goes into the kernel: it is used when the
// first touch blocks (SCAN_TRIGGER 0 or 1) and blocking is on for the protocol; the
// ignore list, the host's own addresses, gateways and resolvers are mirrored into sets;
// "nothing listens on it" is asked of the kernel itself (`socket` lookup), so a service that
// just started is never mistaken for a tripwire. Pure: builds the nft script.
//
// The classic -tcp tripwires are trapped too, but only once the handshake has completed: the
// client's ACK that establishes a connection to one of our bound tripwire ports adds its
// sender to the blocked set and is let through, so the connection completes, the tripwire
// accepts it, writes PORT_BANNER and logs "Connect from host" as the original does, while the
// scanner is already blackholed (a few microseconds after its handshake, not a few
// milliseconds later when user space gets round to it).
//
// Each block is two rules: one adds the source to the set, the next (same match) gives the
// verdict. A set add can fail (set full); on its own rule that failure only skips the add,
// never the drop, so a full set cannot let the probe through.
//
// BLOCK_RATE_PER_PREFIX holds in the kernel as in user space (engine.ts): the add rule first
// takes a token from its source's /24 (IPv4) or /64 (IPv6) in a dynamic set of per-prefix
// token buckets (`limit rate N/minute burst N packets`: N at once, then N a minute, the
// engine's bucket), so a spoofed flood from one /24 cannot make the kernel add more than N
// blocks a minute from it. A prefix over its limit, or one whose bucket cannot be made (the
// bucket set full), gets no new block from the kernel, but its packet still meets the
// verdict rule: the limit can skip an add, never the drop. User space still sees the probe
// and decides under its own limit. IPv6 sources go in as their
// BLOCK_PREFIX6 network, except in a network that also holds a never-block address
// (trap_shared6), where only the one host is blocked (blocked6_hosts).
//
// The reply trap: TCP conntrack calls invalid (FIN, NULL, XMAS, FIN/ACK with no connection,
// and a bad checksum alike) is let through to the stack and its RST is trapped on the way
// out, in trap_out, blocking the RST's destination (see trapScript). The stack, not the
// trap, tells a bad checksum (dropped, no RST, nobody blocked) from a real probe.
//
// Where capture reads netfilter's log (capture/nflog-capture.ts, `logGroup`), a probe the trap
// drops is logged from here, once: from the add rule itself, after the add, with the trap's
// prefix (a rule stops at a statement that fails, so only a source the kernel really put in
// a blocked set is logged so: the daemon records that block without running nft), or, when
// no add happened (over the limit, a full set), with the ordinary probe prefix before the
// drop, so user space decides as before.
//
// The scan score (engine/scan-score.ts) holds here too: the trap only blocks alone when any
// first touch acts (SCAN_SCORE_PORT at or above SCAN_SCORE_THRESHOLD, or SCAN_SCORING
// "classic"), and it leaves an on-link neighbour's touches of the LAN service ports to user
// space (trap_onlink4/6, trap_lan_tcp/udp), which reports a lone one and blocks a second. A
// reply to a query this host sent to a multicast or broadcast group comes from whoever heard
// it: datagrams to the port the query left from are replies for five minutes (trap_query_ports).
//
// SCTP INIT / COOKIE ECHO and IP protocol probes have their own block of rules, last
// (protocol-trap.ts), with the TCP stealth and advanced ports (`otherProtocols`).

import type { WatchRule } from '../capture/capture-detector.js';
import type { TrapNeverBlock } from '../never-block/never-block.js';
import type { PortSentryConfig } from '../config/config.js';
import type { Mode } from '../../shared/domain/types.js';
import { maskAddress, prefixMask } from '../../shared/domain/block-target.js';
import { nftDuration } from './nft-duration.js';
import { nflogStatement, PENDING_LOG_PREFIX, PROBE_LOG_PREFIX, REPLY_LOG_PREFIX, REPLY_SETS, REPLY_TRAP_LOG_PREFIX, STRAY_LOG_PREFIX, TRAP_LOG_PREFIX } from '../capture/nflog-capture.js';
import { kernelScope, scoreOptions } from '../engine/scan-score.js';
import { otherProtocolTrapRules } from './protocol-trap.js';

export interface TrapPlan {
  readonly tcpPorts: readonly PortRange[];
  readonly udpPorts: readonly PortRange[];
  /**
   * The classic -udp mode's tripwire ports: our own sockets own them, so they are matched
   * before the socket lookup; the datagram is let through to the tripwire (which logs it as
   * the original does) after its sender went into the blocked set.
   */
  readonly udpTripwires: readonly PortRange[];
  /** The classic -tcp tripwire ports we hold: blocked once the handshake is complete. */
  readonly tcpTripwires: readonly PortRange[];
  /** Never-block networks, "addr" or "addr/prefix". */
  readonly ignore4: readonly string[];
  readonly ignore6: readonly string[];
  readonly timeoutSeconds: number;
  /** IPv6 blocks cover this prefix (BLOCK_PREFIX6). */
  readonly prefix6: number;
  /** BLOCK_PREFIX6 networks that hold a never-block address: there only the host is blocked. */
  readonly shared6: readonly string[];
  /** New blocks a minute the kernel may add per IPv4 /24 or IPv6 /64 (BLOCK_RATE_PER_PREFIX); 0: no limit. */
  readonly ratePerPrefix: number;
  /** The NFLOG group capture reads, to which trapped probes are logged; absent: capture reads an interface. */
  readonly logGroup?: number;
  /** This host's interface networks and the LAN service ports whose touches from them are left to user space. */
  readonly onLink4?: readonly string[];
  readonly onLink6?: readonly string[];
  readonly lanTcp?: readonly PortRange[];
  readonly lanUdp?: readonly PortRange[];
  /** SCTP INIT/COOKIE ECHO to the TCP ports and IP protocol probes are trapped too (protocol-trap.ts). */
  readonly otherProtocols?: boolean;
  /** IP_PROTOCOLS_IN_USE: never IP protocol probes. */
  readonly ipProtocolsInUse?: readonly number[];
}

/** The tripwire ports the sensors actually hold (a port a service owns is not ours to trap). */
export interface BoundTripwires {
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
}

export type PortRange = readonly [number, number];

/** Where a block rule sits and whom it blocks: a probe's source on the way in, a reply's destination on the way out. */
interface Side {
  readonly chain: 'trap' | 'trap_out';
  readonly addr: 'saddr' | 'daddr';
  readonly trappedPrefix: string;
}
const INPUT_SIDE: Side = { chain: 'trap', addr: 'saddr', trappedPrefix: TRAP_LOG_PREFIX };
const REPLY_SIDE: Side = { chain: 'trap_out', addr: 'daddr', trappedPrefix: REPLY_TRAP_LOG_PREFIX };
interface PerFamily {
  readonly v4: string;
  readonly v6: string;
}

/** Per-prefix buckets the kernel keeps for BLOCK_RATE_PER_PREFIX, per family. */
export const RATE_BUCKETS = 65_536;

/** The plan for a config and modes, or null when the trap must be off. */
export function planTrap(config: PortSentryConfig, modes: readonly Mode[], rules: readonly WatchRule[], neverBlock: TrapNeverBlock, paused: boolean, bound?: BoundTripwires): TrapPlan | null {
  const score = kernelScope(scoreOptions(config));
  if (paused || !config.kernelTrap || config.blockBackend !== 'nftables' || config.scanTrigger > 1 || !score.firstTouchActs) return null;
  const trapped = rules.filter((rule) => rule.mode !== 'tcp' && modes.includes(rule.mode));
  const tcp = config.blockTcp === 1 ? portRanges(trapped.filter((r) => r.protocol === 'tcp')) : [];
  const udp = config.blockUdp === 1 ? portRanges(trapped.filter((r) => r.protocol === 'udp')) : [];
  // Not the -tcp tripwires: blocking at the SYN would stop the handshake the original completes.
  const tripwires = (mode: 'tcp' | 'udp', ports: readonly number[]) => portRanges([{ mode, protocol: mode, ports: { kind: 'list', ports }, exclude: new Set(), skipListening: false }]);
  const udpTripwires = config.blockUdp === 1 && modes.includes('udp') ? tripwires('udp', bound?.udp ?? config.udpPorts) : [];
  // Only ports our own sockets hold: a handshake with a real service is never a scan.
  const tcpTripwires = config.blockTcp === 1 && modes.includes('tcp') && bound !== undefined ? tripwires('tcp', bound.tcp) : [];
  if (tcp.length === 0 && udp.length === 0 && udpTripwires.length === 0 && tcpTripwires.length === 0) return null;
  const ignore4 = ['127.0.0.0/8'];
  const ignore6 = ['::1'];
  const prefix6 = config.blockPrefix6;
  const shared6 = new Set<string>();
  for (const entry of neverBlock.ignore) {
    (entry.family === 4 ? ignore4 : ignore6).push(`${entry.address}/${entry.prefix}`);
    if (entry.family === 6 && entry.prefix > prefix6) shared6.add(`${maskAddress(entry.address, 6, prefix6)}/${prefix6}`);
  }
  for (const address of neverBlock.host) {
    (address.includes(':') ? ignore6 : ignore4).push(address);
    if (address.includes(':') && prefix6 < 128) shared6.add(`${maskAddress(address, 6, prefix6)}/${prefix6}`);
  }
  if (prefix6 < 128) shared6.add(`${maskAddress('::1', 6, prefix6)}/${prefix6}`);
  return {
    tcpPorts: tcp,
    udpPorts: udp,
    udpTripwires,
    tcpTripwires,
    ignore4,
    ignore6,
    timeoutSeconds: config.blockTimeoutSeconds,
    prefix6,
    shared6: [...shared6].sort(),
    ratePerPrefix: config.blockRatePerPrefix,
    ...(tcp.length > 0 ? { otherProtocols: true, ...(config.ipProtocolsInUse.length > 0 ? { ipProtocolsInUse: [...config.ipProtocolsInUse] } : {}) } : {}),
    ...(score.leaveLanToUserSpace ? lanPlan(config, neverBlock) : {}),
  };
}

/** What the trap leaves to user space's score: on-link sources' touches of the LAN service ports. */
function lanPlan(config: PortSentryConfig, neverBlock: TrapNeverBlock): Pick<TrapPlan, 'onLink4' | 'onLink6' | 'lanTcp' | 'lanUdp'> {
  const links = neverBlock.onLink ?? [];
  const ports = (protocol: 'tcp' | 'udp', list: readonly number[]) => portRanges([{ mode: protocol, protocol, ports: { kind: 'list', ports: list }, exclude: new Set(), skipListening: false }]);
  return {
    onLink4: links.filter((n) => n.family === 4).map((n) => `${n.address}/${n.prefix}`),
    onLink6: links.filter((n) => n.family === 6).map((n) => `${n.address}/${n.prefix}`),
    lanTcp: ports('tcp', config.lanServicePortsTcp),
    lanUdp: ports('udp', config.lanServicePortsUdp),
  };
}

/** The ports the rules watch, as sorted, merged ranges. */
export function portRanges(rules: readonly WatchRule[]): PortRange[] {
  const watched = new Set<number>();
  for (const rule of rules) {
    if (rule.ports.kind === 'list') for (const port of rule.ports.ports) watched.add(port);
    else for (let port = 1; port <= rule.ports.limit; port += 1) watched.add(port);
    for (const port of rule.exclude) watched.delete(port);
  }
  const sorted = [...watched].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const port of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] === port - 1) last[1] = port;
    else ranges.push([port, port]);
  }
  return ranges;
}

/**
 * Hosts just unblocked by hand, which the -tcp tripwire rule leaves alone for a while (see
 * nftables-backend.ts PARDON_SECONDS). One text for both scripts that declare them: the
 * ruleset (so an unblock can always add to them) and the trap (which refers to them).
 */
export const PARDON_SETS = [
  '  set trap_pardon4 { type ipv4_addr; flags interval, timeout; auto-merge; size 65536; }',
  '  set trap_pardon6 { type ipv6_addr; flags interval, timeout; auto-merge; size 65536; }',
] as const;

/** The nft script that installs (or, with null, disarms) the trap in `inet <table>`. */
export function trapScript(table: string, plan: TrapPlan | null): string {
  const t = `inet ${table}`;
  const lines = [
    `table ${t} {`,
    '  set trap_ignore4 { type ipv4_addr; flags interval; auto-merge; }',
    '  set trap_ignore6 { type ipv6_addr; flags interval; auto-merge; }',
    '  set trap_tcp { type inet_service; flags interval; }',
    '  set trap_udp { type inet_service; flags interval; }',
    '  set trap_udp_tripwires { type inet_service; flags interval; }',
    '  set trap_tcp_tripwires { type inet_service; flags interval; }',
    '  set trap_shared6 { type ipv6_addr; flags interval; auto-merge; }',
    // Declared with the ruleset too (nftables-backend.ts): hosts just unblocked by hand.
    ...PARDON_SETS,
    // Per-prefix token buckets for BLOCK_RATE_PER_PREFIX. An idle bucket is full again after a
    // minute, so an element may lapse then; the size bounds the kernel memory a flood of
    // distinct prefixes can take (a prefix that finds no room gets no kernel block).
    `  set trap_rate4 { type ipv4_addr; flags dynamic, timeout; timeout 1m; size ${RATE_BUCKETS}; }`,
    `  set trap_rate6 { type ipv6_addr; flags dynamic, timeout; timeout 1m; size ${RATE_BUCKETS}; }`,
    // Hosts this host opened a conversation with in the last five minutes (filled by trap_out).
    '  set trap_peers4 { type ipv4_addr; flags dynamic, timeout; timeout 5m; }',
    '  set trap_peers6 { type ipv6_addr; flags dynamic, timeout; timeout 5m; }',
    '  set trap_onlink4 { type ipv4_addr; flags interval; auto-merge; }',
    '  set trap_onlink6 { type ipv6_addr; flags interval; auto-merge; }',
    '  set trap_lan_tcp { type inet_service; flags interval; }',
    '  set trap_lan_udp { type inet_service; flags interval; }',
    // Ports this host sent a multicast or broadcast query from in the last five minutes.
    '  set trap_query_ports { type inet_service; flags dynamic, timeout; timeout 5m; }',
    // Invalid TCP let through to the stack, whose RST is trapped on its way out (the reply trap).
    ...REPLY_SETS,
    '  chain trap_out { type filter hook output priority mangle; policy accept; }',
    // After raw (where blocked sources are dropped) and defragmentation, so the socket lookup works.
    '  chain trap { type filter hook prerouting priority mangle; policy accept; }',
    '}',
    `flush chain ${t} trap`,
    `flush chain ${t} trap_out`,
    `flush set ${t} trap_ignore4`,
    `flush set ${t} trap_ignore6`,
    `flush set ${t} trap_tcp`,
    `flush set ${t} trap_udp`,
    `flush set ${t} trap_udp_tripwires`,
    `flush set ${t} trap_tcp_tripwires`,
    `flush set ${t} trap_shared6`,
    `flush set ${t} trap_onlink4`,
    `flush set ${t} trap_onlink6`,
    `flush set ${t} trap_lan_tcp`,
    `flush set ${t} trap_lan_udp`,
    // A changed limit starts with fresh buckets.
    `flush set ${t} trap_rate4`,
    `flush set ${t} trap_rate6`,
  ];
  if (plan === null) return `${lines.join('\n')}\n`;
  const elements = (set: string, items: readonly string[]) => (items.length > 0 ? [`add element ${t} ${set} { ${items.join(', ')} }`] : []);
  const range = ([from, to]: PortRange) => (from === to ? String(from) : `${from}-${to}`);
  const timeout = plan.timeoutSeconds > 0 ? ` timeout ${nftDuration(plan.timeoutSeconds)}` : '';
  const mask = plan.prefix6 < 128 ? ` & ${prefixMask(6, plan.prefix6)}` : '';
  // The add and the verdict are separate rules: a failed add (full set) must not skip the verdict.
  // The bucket is taken in the add rule itself: no token (or no bucket), no add; the verdict
  // rule after it is reached either way. One of the v4/v6 add rules runs per packet, so a
  // packet takes one token.
  const rate = plan.ratePerPrefix;
  // Only the probes the trap drops are logged (the tripwires' own sockets see theirs). `side`:
  // the input trap blocks a probe's source; the reply trap, the destination of the RST the
  // probe drew (and logs it with prefixes of its own, see nflog-capture.ts).
  // `match` is one for both families, or one for each (a match that names an address family).
  const block = (match: string | PerFamily, verdict: 'drop' | 'accept', comment: string, untrappedPrefix = PROBE_LOG_PREFIX, side: Side = INPUT_SIDE) => {
    const { chain, addr, trappedPrefix } = side;
    const m4 = typeof match === 'string' ? match : match.v4;
    const m6 = typeof match === 'string' ? match : match.v6;
    const limit4 = rate > 0 ? ` update @trap_rate4 { ip ${addr} & 255.255.255.0 limit rate ${rate}/minute burst ${rate} packets }` : '';
    const limit6 = rate > 0 ? ` update @trap_rate6 { ip6 ${addr} & ffff:ffff:ffff:ffff:: limit rate ${rate}/minute burst ${rate} packets }` : '';
    const logged = verdict === 'drop' && plan.logGroup !== undefined;
    const trapped = logged ? ` ${nflogStatement(plan.logGroup!, trappedPrefix)}` : '';
    const notAdded = plan.prefix6 < 128 ? [`ip ${addr} != @blocked4`, `ip6 ${addr}${mask} != @blocked6 ip6 ${addr} != @blocked6_hosts`] : [`ip ${addr} != @blocked4`, `ip6 ${addr} != @blocked6`];
    return [
      `add rule ${t} ${chain} ${m4}${limit4} add @blocked4 { ip ${addr}${timeout} }${trapped}`,
      ...(plan.prefix6 < 128
        ? [
            `add rule ${t} ${chain} ${m6} ip6 ${addr} @trap_shared6${limit6} add @blocked6_hosts { ip6 ${addr}${timeout} }${trapped}`,
            `add rule ${t} ${chain} ${m6} ip6 ${addr} != @trap_shared6${limit6} add @blocked6 { ip6 ${addr}${mask}${timeout} }${trapped}`,
          ]
        : [`add rule ${t} ${chain} ${m6}${limit6} add @blocked6 { ip6 ${addr}${timeout} }${trapped}`]),
      ...(logged
        ? [
            `add rule ${t} ${chain} ${m4} ${notAdded[0]} ${nflogStatement(plan.logGroup!, untrappedPrefix)}`,
            `add rule ${t} ${chain} ${m6} ${notAdded[1]} ${nflogStatement(plan.logGroup!, untrappedPrefix)}`,
          ]
        : []),
      ...[...new Set([m4, m6])].map((m) => `add rule ${t} ${chain} ${m} counter ${verdict} comment "${comment}"`),
    ];
  };
  // What conntrack calls invalid is never added by the kernel at the way in: a segment with a
  // bad checksum (nmap --badsum, hping3 -b) is invalid, and this host's stack drops it
  // unread, so it is no evidence. UDP so judged is dropped and handed to user space, which
  // checks the checksum (packet-decoder.ts); so is TCP when the reply trap below has no room.
  const unverified = (match: string) => [
    ...(plan.logGroup !== undefined ? [`add rule ${t} trap ct state invalid ${match} ${nflogStatement(plan.logGroup, STRAY_LOG_PREFIX)}`] : []),
    `add rule ${t} trap ct state invalid ${match} counter drop comment "portsentry trap: invalid, user space decides"`,
  ];
  // The reply trap. A FIN, NULL, XMAS or FIN/ACK probe with no connection is invalid too, and
  // only the stack can tell it from a bad checksum: so the segment is remembered (source .
  // port, a few seconds) and let through. The stack drops a bad checksum silently and answers
  // a good one with an RST (tcp_v4_send_reset, tcp_v6_send_reset), which passes the output
  // hook in the same softirq: there the RST's destination is blocked as the input trap would
  // block a probe's source (same timeout, prefix, limit), and the RST is dropped, so the
  // scanner learns nothing and its block is in the kernel at its first probe.
  const invalidTcp = 'ct state invalid tcp flags & rst == 0 tcp dport @trap_tcp';
  const pending = plan.logGroup !== undefined ? ` ${nflogStatement(plan.logGroup, PENDING_LOG_PREFIX)}` : '';
  const replyIn = [
    `add rule ${t} trap ${invalidTcp} update @trap_reply4 { ip saddr . tcp dport }${pending}`,
    `add rule ${t} trap ${invalidTcp} update @trap_reply6 { ip6 saddr . tcp dport }${pending}`,
    `add rule ${t} trap ${invalidTcp} ip saddr . tcp dport @trap_reply4 counter accept comment "portsentry reply trap: the stack judges it"`,
    `add rule ${t} trap ${invalidTcp} ip6 saddr . tcp dport @trap_reply6 counter accept comment "portsentry reply trap: the stack judges it"`,
  ];
  const reset = 'tcp flags & rst == rst';
  const replyOut = block({ v4: `${reset} ip daddr . tcp sport @trap_reply4`, v6: `${reset} ip6 daddr . tcp sport @trap_reply6` }, 'drop', 'portsentry reply trap', REPLY_LOG_PREFIX, REPLY_SIDE);
  lines.push(
    ...elements('trap_ignore4', plan.ignore4),
    ...elements('trap_ignore6', plan.ignore6),
    ...elements('trap_tcp', plan.tcpPorts.map(range)),
    ...elements('trap_udp', plan.udpPorts.map(range)),
    ...elements('trap_udp_tripwires', plan.udpTripwires.map(range)),
    ...elements('trap_tcp_tripwires', plan.tcpTripwires.map(range)),
    ...elements('trap_shared6', plan.shared6),
    ...elements('trap_onlink4', plan.onLink4 ?? []),
    ...elements('trap_onlink6', plan.onLink6 ?? []),
    ...elements('trap_lan_tcp', (plan.lanTcp ?? []).map(range)),
    ...elements('trap_lan_udp', (plan.lanUdp ?? []).map(range)),
    // First: the RST a probe drew is dropped before anything else reads it.
    ...(plan.tcpPorts.length > 0 ? replyOut : []),
    `add rule ${t} trap_out ct state new update @trap_peers4 { ip daddr }`,
    `add rule ${t} trap_out ct state new update @trap_peers6 { ip6 daddr }`,
    `add rule ${t} trap_out ip daddr { 224.0.0.0/4, 255.255.255.255 } update @trap_query_ports { udp sport }`,
    `add rule ${t} trap_out ip6 daddr ff00::/8 update @trap_query_ports { udp sport }`,
    `add rule ${t} trap fib daddr type != local return`,
    `add rule ${t} trap ip saddr @trap_ignore4 return`,
    `add rule ${t} trap ip6 saddr @trap_ignore6 return`,
    // An on-link neighbour's touch of a LAN service: user space's score decides (a lone one is reported).
    ...((plan.lanTcp ?? []).length > 0
      ? [`add rule ${t} trap ip saddr @trap_onlink4 tcp dport @trap_lan_tcp return`, `add rule ${t} trap ip6 saddr @trap_onlink6 tcp dport @trap_lan_tcp return`]
      : []),
    ...((plan.lanUdp ?? []).length > 0
      ? [`add rule ${t} trap ip saddr @trap_onlink4 udp dport @trap_lan_udp return`, `add rule ${t} trap ip6 saddr @trap_onlink6 udp dport @trap_lan_udp return`]
      : []),
    // Classic -tcp: the ACK that completes a handshake with our tripwire socket (the peer
    // opened it: original direction). It goes through, so the connection completes.
    // A host unblocked by hand is pardoned here for a while: its connection that was open at
    // the unblock must not put it straight back (a new connection is still seen by the
    // tripwire, and the daemon blocks it).
    ...(plan.tcpTripwires.length > 0
      ? [
          `add rule ${t} trap tcp dport @trap_tcp_tripwires ct state established ip saddr @trap_pardon4 return`,
          `add rule ${t} trap tcp dport @trap_tcp_tripwires ct state established ip6 saddr @trap_pardon6 return`,
        ]
      : []),
    // Only a bare ACK (the one that completes the handshake, in practice): a FIN or data the
    // client retransmits into the block long after its probe (the helper restarted, the host
    // was unblocked) is not a new touch and must not block it again behind the helper's back.
    ...(plan.tcpTripwires.length > 0
      ? block('tcp dport @trap_tcp_tripwires ct direction original ct state established tcp flags & (fin|syn|rst|psh|ack) == ack', 'accept', 'portsentry tripwire')
      : []),
    // Part of a conversation this host is in (replies to its own queries included): not a probe.
    `add rule ${t} trap ct state established,related return`,
    // A data channel a peer opens back to us (active FTP) lands on a client port: allowed, as
    // in user space (capture/capture-detector.ts ConversationMemory).
    `add rule ${t} trap th dport >= 1024 ip saddr @trap_peers4 return`,
    `add rule ${t} trap th dport >= 1024 ip6 saddr @trap_peers6 return`,
    `add rule ${t} trap udp dport @trap_query_ports return`,
    // A datagram conntrack calls invalid (a bad checksum, with nf_conntrack_checksum on) never
    // reaches the tripwire's socket: it blocks no one.
    ...(plan.udpTripwires.length > 0 ? block('ct state != invalid udp dport @trap_udp_tripwires', 'accept', 'portsentry tripwire') : []),
    // A socket owns the port (a listening service, or a reply to our own connection): not a probe.
    `add rule ${t} trap socket transparent 0 return`,
    `add rule ${t} trap socket transparent 1 return`,
  );
  // TCP with no conversation (nmap -sA, -sW, -sM, hping3 -A): an ACK without SYN or RST to a
  // port no socket owns. conntrack picks a lone ACK up as new (nf_conntrack_tcp_loose, the
  // default) and calls FIN/ACK invalid. A peer this host talked to in the last five minutes
  // may still send the late segments of a closed conversation: those are not probes.
  const stray = 'tcp flags & (syn|rst|ack) == ack tcp dport @trap_tcp';
  if (plan.tcpPorts.length > 0) {
    lines.push(
      `add rule ${t} trap ${stray} ip saddr @trap_peers4 return`,
      `add rule ${t} trap ${stray} ip6 saddr @trap_peers6 return`,
      ...replyIn,
      ...unverified('tcp flags & rst == 0 tcp dport @trap_tcp'),
      ...block('tcp flags & (ack|rst) == 0 tcp dport @trap_tcp', 'drop', 'portsentry trap'),
      ...block(`ct state new ${stray}`, 'drop', 'portsentry trap', STRAY_LOG_PREFIX),
    );
  }
  if (plan.udpPorts.length > 0) lines.push(...unverified('udp dport @trap_udp'), ...block('udp dport @trap_udp', 'drop', 'portsentry trap'));
  // SCTP and IP protocol probes: their own block (protocol-trap.ts).
  if (plan.otherProtocols === true) lines.push(...otherProtocolTrapRules({ block, unverified }, plan.ipProtocolsInUse));
  return `${lines.join('\n')}\n`;
}
