// Turns decoded packets into probes for the stealth (-stcp/-sudp), advanced (-atcp/-audp)
// and, where capture runs beside the tripwires, classic (-tcp) modes. Only packets addressed
// to one of this host's own addresses count: on a router, a Docker or libvirt host, traffic
// that only passes through is someone else's conversation (the kernel trap's `fib daddr type
// local`, in user space). Pure: the listening set, own addresses and the clock are injected.

import type { Mode, Probe, Protocol } from '../../shared/domain/types.js';
import type { PortSelector } from './capture-filter.js';
import type { DecodedPacket } from './packet-decoder.js';
import type { ListeningPorts } from './listening-ports.js';
import { classifyStrayTcp, classifyTcpFlags } from './scan-classifier.js';
import { classifySctpChunk, isProbeProtocol } from './ip-protocols.js';

export interface WatchRule {
  readonly mode: Mode;
  readonly protocol: Protocol;
  readonly ports: PortSelector;
  /** Ports never watched (ADVANCED_EXCLUDE_*). */
  readonly exclude: ReadonlySet<number>;
  /**
   * Skip ports a service listens on: a real service is not a tripwire. False for the classic
   * -tcp mode, whose tripwires are our own sockets (ports another program holds are left
   * out of its rule by name, see capture-plan.ts).
   */
  readonly skipListening: boolean;
}

/** How long an outgoing conversation makes the peer's packets back to us legitimate. */
export const CONVERSATION_TTL_MS = 5 * 60_000;
const MAX_CONVERSATIONS = 65_536;
/** Ports at or above this are where clients (and FTP data channels) live. */
const EPHEMERAL_FLOOR = 1024;

/**
 * Remembers this host's own outgoing conversations (SYNs and datagrams it sent) so the
 * replies, and data channels a server opens back to us (active FTP), are not taken for scans.
 * A query sent to a multicast or broadcast group (SSDP M-SEARCH, LLMNR, WS-Discovery) is
 * answered by whoever hears it, from its own address: any datagram back to the port it left
 * from is a reply (the kernel trap's trap_query_ports says the same).
 */
export class ConversationMemory {
  private readonly byPeer = new Map<string, number>();
  private readonly byFlow = new Map<string, number>();
  private readonly byQueryPort = new Map<string, number>();

  note(packet: DecodedPacket, at: number): void {
    this.remember(this.byPeer, packet.destination, at);
    this.remember(this.byFlow, `${packet.protocol}|${packet.destination}|${packet.sourcePort}`, at);
    if (packet.protocol === 'udp' && isGroupAddress(packet.destination)) this.remember(this.byQueryPort, String(packet.sourcePort), at);
  }

  /** True when this host opened a conversation with the packet's sender in the last five minutes. */
  talkedWith(packet: DecodedPacket, at: number): boolean {
    return this.fresh(this.byPeer, packet.source, at);
  }

  /** True when an inbound packet answers something this host started. */
  answers(packet: DecodedPacket, at: number): boolean {
    if (this.fresh(this.byFlow, `${packet.protocol}|${packet.source}|${packet.destinationPort}`, at)) return true;
    if (packet.protocol === 'udp' && this.fresh(this.byQueryPort, String(packet.destinationPort), at)) return true;
    return packet.destinationPort >= EPHEMERAL_FLOOR && this.fresh(this.byPeer, packet.source, at);
  }

  private remember(map: Map<string, number>, key: string, at: number): void {
    map.delete(key);
    map.set(key, at);
    if (map.size > MAX_CONVERSATIONS) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
  }

  private fresh(map: Map<string, number>, key: string, at: number): boolean {
    const seen = map.get(key);
    return seen !== undefined && at - seen <= CONVERSATION_TTL_MS;
  }
}

/** Probes the reply trap let through, held until the RST each drew is logged (bounded: a bad checksum draws none). */
const MAX_HELD = 4_096;

export class CaptureDetector {
  private readonly conversations = new ConversationMemory();
  private readonly held = new Map<string, DecodedPacket>();

  constructor(
    private readonly rules: readonly WatchRule[],
    private readonly listening: ListeningPorts,
    private readonly isOwnAddress: (address: string) => boolean,
    /** IP_PROTOCOLS_IN_USE: never IP protocol probes. */
    private readonly ipProtocolsInUse: readonly number[] = [],
  ) {}

  /** True for an inbound packet to one of this host's own addresses. */
  addressedToUs(packet: DecodedPacket): boolean {
    return packet.direction !== 'out' && this.isOwnAddress(packet.destination);
  }

  /**
   * Returns the probe this packet is, or null when it is not a scan we watch for.
   * `trapped`: the kernel trap blocked its sender already, having asked the kernel itself
   * whether a socket owns the port and whether it answers a conversation of ours: those
   * questions are not asked again of a view that may be older. `stray`: netfilter logged it
   * as TCP the kernel knows no connection for, so an ACK in it is a probe too (a packet the
   * trap blocked for is always one).
   */
  inspect(packet: DecodedPacket, at: number, trapped = false, stray = false): Probe | null {
    if (packet.direction === 'out') {
      // Forwarded packets leave too; only this host's own conversations are remembered.
      if (this.isOwnAddress(packet.source)) this.conversations.note(packet, at);
      return null;
    }
    // ICMP is host discovery (engine/host-discovery.ts), never a port's probe.
    if (packet.protocol === 'icmp' || !this.isOwnAddress(packet.destination)) return null;
    if (packet.protocol === 'sctp' || packet.protocol === 'ip') return this.otherProtocol(packet, at, trapped);
    const plain = packet.protocol === 'tcp' ? classifyTcpFlags(packet.tcpFlags) : 'udp';
    const kind = plain ?? (trapped || stray ? classifyStrayTcp(packet.tcpFlags) : null);
    if (kind === null) return null;
    // A late segment of a closed conversation with a peer this host talked to is no probe.
    if (plain === null && !trapped && this.conversations.talkedWith(packet, at)) return null;
    // The classic -tcp mode's tripwires hold their ports: an ACK there is theirs to answer.
    const rule = this.rules.find(
      (r) => (plain !== null || r.mode !== 'tcp') && (trapped ? r.mode !== 'tcp' && r.protocol === packet.protocol && watches(r, packet.destinationPort) : this.applies(r, packet, at)),
    );
    if (rule === undefined) return null;
    return {
      source: packet.source,
      family: packet.family,
      port: packet.destinationPort,
      protocol: packet.protocol,
      kind,
      mode: rule.mode,
      at,
      ...(packet.protocol === 'tcp' ? { tcpFlags: packet.tcpFlags } : {}),
      ...(packet.ipOptions ? { ipOptions: true } : {}),
      ...(trapped ? { kernelBlocked: true } : {}),
    };
  }

  /**
   * SCTP INIT / COOKIE ECHO to a port the TCP stealth or advanced mode watches, or a packet of
   * an IP protocol nothing here uses (ip-protocols.ts). Only netfilter's log hands these over,
   * from rules that already asked conntrack whether they belong to a conversation of ours
   * (nflog-capture.ts, kernel-trap.ts), so that is not asked again here.
   */
  private otherProtocol(packet: DecodedPacket, at: number, trapped: boolean): Probe | null {
    const sctp = packet.protocol === 'sctp';
    const kind = sctp ? classifySctpChunk(packet.sctpChunk ?? -1) : isProbeProtocol(packet.ipProtocol ?? -1, this.ipProtocolsInUse) ? 'ip-protocol' : null;
    if (kind === null) return null;
    const port = sctp ? packet.destinationPort : packet.ipProtocol!;
    const rule = this.rules.find((r) => r.mode !== 'tcp' && r.protocol === 'tcp' && (!sctp || watches(r, port)));
    if (rule === undefined) return null;
    return { source: packet.source, family: packet.family, port, protocol: 'tcp', kind, mode: rule.mode, at, ...(trapped ? { kernelBlocked: true } : {}) };
  }

  /**
   * The kernel's reply trap let this invalid TCP segment through to the stack, which answers
   * a good one with an RST and drops a bad checksum unread (kernel-trap.ts): nothing is
   * decided until that RST is logged (`answered`).
   */
  hold(packet: DecodedPacket): void {
    const key = `${packet.source}|${packet.destinationPort}`;
    this.held.delete(key);
    this.held.set(key, packet);
    if (this.held.size > MAX_HELD) {
      const oldest = this.held.keys().next();
      if (oldest.done !== true) this.held.delete(oldest.value);
    }
  }

  /**
   * The RST the stack sent for a held probe, which the kernel dropped: the probe, with its
   * sender blocked by the kernel already (`trapped`), or left to user space (the kernel added
   * nothing: over the per-prefix limit, a full set). Null when nothing was held for it.
   */
  answered(reset: DecodedPacket, at: number, trapped: boolean): Probe | null {
    const key = `${reset.destination}|${reset.sourcePort}`;
    const probe = this.held.get(key);
    if (probe === undefined) return null;
    this.held.delete(key);
    return this.inspect(probe, at, trapped, true);
  }

  private applies(rule: WatchRule, packet: DecodedPacket, at: number): boolean {
    if (rule.protocol !== packet.protocol || !watches(rule, packet.destinationPort)) return false;
    if (rule.skipListening && this.listening.isListening(packet.protocol, packet.destinationPort)) return false;
    // A reply to this host's own traffic is never a probe, in the stealth modes too (the
    // kernel trap lets it through in every mode); -tcp's tripwires are our own listening sockets.
    return !(rule.mode !== 'tcp' && this.conversations.answers(packet, at));
  }
}

/** An IPv4 multicast or limited-broadcast address, or an IPv6 multicast one (nft: 224.0.0.0/4, 255.255.255.255, ff00::/8). */
export function isGroupAddress(address: string): boolean {
  if (address.includes(':')) return address.toLowerCase().startsWith('ff');
  const first = Number(address.slice(0, address.indexOf('.')));
  return (first >= 224 && first <= 239) || address === '255.255.255.255';
}

function watches(rule: WatchRule, port: number): boolean {
  if (rule.exclude.has(port)) return false;
  return rule.ports.kind === 'below' ? port >= 1 && port <= rule.ports.limit : rule.ports.ports.includes(port);
}
