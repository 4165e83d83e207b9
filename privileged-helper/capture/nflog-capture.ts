// Capture from netfilter instead of an interface, where our nftables table is there: rules
// of ours send the candidate packets to an NFLOG group that tcpdump reads (`-i nflog:N`).
// They sit after the drop rules of the blocked sets (raw priority) and after the kernel trap
// (mangle), so a blocked source's packets never reach user space at all, and after
// defragmentation, so a fragmented probe arrives whole and is logged with its kind. The
// kernel trap logs what it blocks to the same group with its own prefix (kernel-trap.ts): the
// daemon learns "the kernel blocked this source" without asking nft again. Pure: builds the
// nft script; the firewall owner installs it (and puts it back after another program removed it).

import type { CaptureWatch, PortSelector } from './capture-filter.js';
import { knownProtocolsNft } from './ip-protocols.js';

/** Bytes of each packet the kernel copies to user space: IPv6 with a few extension headers, and TCP. */
export const NFLOG_SNAPLEN = 160;
/** The log prefix of a probe the kernel trap blocked its sender for (the sender is in a blocked set). */
export const TRAP_LOG_PREFIX = 'portsentry-trap';
/** The log prefix of every other candidate packet: user space decides. */
export const PROBE_LOG_PREFIX = 'portsentry-probe';
/**
 * The log prefix of a TCP packet conntrack knows no connection for (ct state new or invalid):
 * with it, an ACK or FIN/ACK is a probe too (nmap -sA, -sW, -sM), which no packet tells alone.
 */
export const STRAY_LOG_PREFIX = 'portsentry-stray';
/**
 * The reply trap (kernel-trap.ts): TCP conntrack calls invalid (a FIN, NULL, XMAS or FIN/ACK
 * probe, or a bad checksum) is let through to this host's stack, which drops a bad checksum
 * unread and answers a good one with an RST. The probe is logged with PENDING (user space
 * holds it, decides nothing), then its RST, which the kernel drops, with REPLY_TRAP when the
 * kernel blocked the probe's sender for it, or with REPLY when it added nothing (over the
 * per-prefix limit, a full set): then user space decides on the held probe. A bad checksum
 * draws no RST, so its held probe is never acted on.
 */
export const PENDING_LOG_PREFIX = 'portsentry-pending';
export const REPLY_TRAP_LOG_PREFIX = 'portsentry-trap-reply';
export const REPLY_LOG_PREFIX = 'portsentry-reply';

/**
 * The probes the reply trap let through, by source and port, for a few seconds: the RST the
 * stack sends is looked up here. Declared by the trap and by capture (which leaves those
 * probes to the trap's log), so either script can be installed first.
 */
export const REPLY_SETS = [
  '  set trap_reply4 { type ipv4_addr . inet_service; flags dynamic, timeout; timeout 5s; size 65536; }',
  '  set trap_reply6 { type ipv6_addr . inet_service; flags dynamic, timeout; timeout 5s; size 65536; }',
] as const;

/** The log prefix of a host discovery request (engine/host-discovery.ts): ICMP echo, timestamp, address mask, ICMPv6 echo. */
export const SWEEP_LOG_PREFIX = 'portsentry-sweep';

/** What capture installs: which packets, and the group they go to. */
export interface NflogCapturePlan {
  readonly watch: CaptureWatch;
  readonly group: number;
  /**
   * REPEAT_LOG "every" (1.2's policy: each probe from an already blocked host is logged, so
   * logwatch lists every port it touched): a blocked source's candidate packets are logged
   * too, from a chain before the drop. That costs user space a packet each, as 1.2's raw
   * socket did; "minute" (our shipped config) leaves them to the drop and costs nothing.
   */
  readonly repeats?: boolean;
  /** Host discovery requests are logged too (HOST_DISCOVERY is not "off"). */
  readonly discovery?: boolean;
}

/**
 * The NFLOG group for a table: NFLOG groups are one per network namespace, so two helpers
 * with different tables never read each other's. `generation` alternates between two groups,
 * so a new capture can bind its group while the old one still reads (make-before-break).
 */
export function nflogGroupFor(table: string, generation: number): number {
  let hash = 0;
  for (const char of table) hash = (hash * 31 + char.charCodeAt(0)) % 30_000;
  return 10_000 + hash * 2 + (generation % 2);
}

/**
 * The `log` statement sending a packet to the group, with one of our prefixes. Each packet
 * goes to user space at once (queue-threshold 1): the kernel would otherwise hold up to 100
 * of them for up to a second, and a lone probe would wait that long to be reported.
 */
export function nflogStatement(group: number, prefix: string): string {
  return `log prefix "${prefix}" group ${group} snaplen ${NFLOG_SNAPLEN} queue-threshold 1`;
}

function ports(selector: PortSelector): string {
  if (selector.kind === 'below') return `1-${selector.limit}`;
  if (selector.ports.length === 0) throw new Error('a port list to watch cannot be empty');
  return `{ ${selector.ports.join(', ')} }`;
}

/**
 * The script that installs (or, with null, removes) the capture chains in `inet <table>`:
 * the same packets the interface filter takes (capture-filter.ts), to this host's own addresses.
 */
export function nflogCaptureScript(table: string, plan: NflogCapturePlan | null, blockedSources: readonly string[] = []): string {
  const t = `inet ${table}`;
  const lines = [
    `table ${t} {`,
    // Before the drop of blocked sources (raw): only their packets, only when repeats are logged.
    '  chain capture_blocked { type filter hook prerouting priority raw - 10; policy accept; }',
    // After the trap (mangle): what it blocked, it logged itself; each packet is logged once.
    '  chain capture { type filter hook prerouting priority mangle + 10; policy accept; }',
    '  chain capture_out { type filter hook output priority mangle + 10; policy accept; }',
    ...REPLY_SETS,
    '}',
  ];
  if (plan === null) {
    lines.push(`delete chain ${t} capture`, `delete chain ${t} capture_out`, `delete chain ${t} capture_blocked`);
    return `${lines.join('\n')}\n`;
  }
  const { watch, group } = plan;
  const log = nflogStatement(group, PROBE_LOG_PREFIX);
  lines.push(`flush chain ${t} capture`, `flush chain ${t} capture_out`, `flush chain ${t} capture_blocked`, `add rule ${t} capture fib daddr type != local return`);
  if (plan.repeats === true && blockedSources.length > 0) {
    lines.push(`add rule ${t} capture_blocked fib daddr type != local return`);
    for (const source of blockedSources) {
      if (watch.tcp !== null) lines.push(`add rule ${t} capture_blocked ${source} tcp dport ${ports(watch.tcp)} tcp flags & (ack|rst) == 0 ${log}`);
      if (watch.udp !== null) lines.push(`add rule ${t} capture_blocked ${source} udp dport ${ports(watch.udp)} ${log}`);
    }
  }
  if (watch.tcp !== null) {
    // What the reply trap let through, it logged itself: each packet is logged once.
    lines.push(`add rule ${t} capture ct state invalid ip saddr . tcp dport @trap_reply4 return`, `add rule ${t} capture ct state invalid ip6 saddr . tcp dport @trap_reply6 return`);
    lines.push(`add rule ${t} capture tcp dport ${ports(watch.tcp)} tcp flags & (ack|rst) == 0 ${log}`);
    // An ACK without SYN or RST that belongs to no connection the kernel knows (lone ACK, FIN/ACK).
    lines.push(`add rule ${t} capture ct state new,invalid tcp dport ${ports(watch.tcp)} tcp flags & (syn|rst|ack) == ack ${nflogStatement(group, STRAY_LOG_PREFIX)}`);
  }
  if (watch.tcpHandshake !== undefined && watch.tcpHandshake !== null) {
    lines.push(`add rule ${t} capture tcp dport ${ports(watch.tcpHandshake)} tcp flags & (syn|rst|ack) == ack ${log}`);
  }
  if (watch.udp !== null) lines.push(`add rule ${t} capture udp dport ${ports(watch.udp)} ${log}`);
  // SCTP INIT / COOKIE ECHO (invalid: a bad checksum, which user space checks) and IP
  // protocols nothing here uses, that conntrack knows no conversation for (ip-protocols.ts).
  if (watch.otherProtocols !== undefined && watch.otherProtocols !== null) {
    const sctp = `meta l4proto sctp sctp dport ${ports(watch.otherProtocols)}`;
    lines.push(
      `add rule ${t} capture ct state new,invalid ${sctp} sctp chunk init exists ${log}`,
      `add rule ${t} capture ct state new,invalid ${sctp} sctp chunk cookie-echo exists ${log}`,
      `add rule ${t} capture ct state new meta l4proto != ${knownProtocolsNft(watch.ipProtocolsInUse)} ${log}`,
    );
  }
  if (watch.outbound) {
    lines.push(`add rule ${t} capture_out tcp flags & (syn|ack) == syn ${log}`);
    if (watch.udp !== null) lines.push(`add rule ${t} capture_out meta l4proto udp ${log}`);
  }
  if (plan.discovery === true) lines.push(...discoveryRules(t, group));
  return `${lines.join('\n')}\n`;
}

/**
 * Host discovery requests to this host (the capture chain returns early for any other
 * destination): only a request that starts something (ct state new). Echo replies to this
 * host's own pings are never requests, and a request conntrack calls established or related
 * belongs to a conversation already; one it calls invalid (a bad checksum) this host's stack
 * drops unread, so it is no evidence.
 */
function discoveryRules(t: string, group: number): string[] {
  const log = nflogStatement(group, SWEEP_LOG_PREFIX);
  return [`add rule ${t} capture ct state new icmp type { echo-request, timestamp-request, address-mask-request } ${log}`, `add rule ${t} capture ct state new icmpv6 type echo-request ${log}`];
}
