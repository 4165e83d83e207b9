// Which packets the capture layer must watch for a config and a set of modes. Pure.

import type { PortSentryConfig } from '../config/config.js';
import type { Mode, Protocol } from '../../shared/domain/types.js';
import type { CaptureWatch, PortSelector } from './capture-filter.js';
import type { WatchRule } from './capture-detector.js';

export interface CapturePlan {
  readonly rules: readonly WatchRule[];
  readonly watch: CaptureWatch;
  /** Modes that cannot run at all without capture (stealth, advanced). */
  readonly requiredBy: readonly Mode[];
}

/**
 * Null when no mode wants packet capture (e.g. -udp alone). `tcpHeldByOthers`: configured
 * -tcp tripwire ports another program holds (sensor-set.ts), which -tcp does not watch.
 */
export function planCapture(config: PortSentryConfig, modes: readonly Mode[], tcpHeldByOthers: ReadonlySet<number> = new Set()): CapturePlan | null {
  const rules: WatchRule[] = [];
  const none = new Set<number>();
  // Classic -tcp first: its ports are our own tripwires, so it matches before a stealth rule
  // that skips listening ports. A port another program holds is that program's: left out by
  // name (its clients are not scanners), not by asking the listening view for every packet
  // (under a SYN flood with two busy loops that lost nmap -sS scans in the verdict-under-load
  // test, measured; the ports we hold are known without it).
  if (modes.includes('tcp')) rules.push({ mode: 'tcp', protocol: 'tcp', ports: list(config.tcpPorts), exclude: tcpHeldByOthers, skipListening: false });
  if (modes.includes('stcp')) rules.push({ mode: 'stcp', protocol: 'tcp', ports: list(config.tcpPorts), exclude: none, skipListening: true });
  if (modes.includes('sudp')) rules.push({ mode: 'sudp', protocol: 'udp', ports: list(config.udpPorts), exclude: none, skipListening: true });
  if (modes.includes('atcp')) {
    rules.push({ mode: 'atcp', protocol: 'tcp', ports: { kind: 'below', limit: config.advancedPortsTcp }, exclude: new Set(config.advancedExcludeTcp), skipListening: true });
  }
  if (modes.includes('audp')) {
    rules.push({ mode: 'audp', protocol: 'udp', ports: { kind: 'below', limit: config.advancedPortsUdp }, exclude: new Set(config.advancedExcludeUdp), skipListening: true });
  }
  const usable = rules.filter((rule) => rule.ports.kind === 'below' || rule.ports.ports.length > 0);
  if (usable.length === 0) return null;
  // The stealth and advanced modes both remember this host's own conversations: a reply to
  // them is never a probe, whatever port it reaches (capture-detector.ts), as in the kernel trap.
  const conversations = usable.some((rule) => rule.mode !== 'tcp');
  // -tcp tells connects from half-open SYNs by the handshake's ACK (half-open-tracker.ts).
  const classicTcp = usable.find((rule) => rule.mode === 'tcp');
  // SCTP and IP protocol probes belong to the TCP stealth and advanced modes (ip-protocols.ts).
  const otherProtocols = selectorFor(
    usable.filter((rule) => rule.mode !== 'tcp'),
    'tcp',
  );
  return {
    rules: usable,
    watch: {
      tcp: selectorFor(usable, 'tcp'),
      udp: selectorFor(usable, 'udp'),
      outbound: conversations,
      ...(classicTcp === undefined ? {} : { tcpHandshake: classicTcp.ports }),
      ...(otherProtocols === null ? {} : { otherProtocols }),
      ...(otherProtocols === null || config.ipProtocolsInUse.length === 0 ? {} : { ipProtocolsInUse: [...config.ipProtocolsInUse] }),
    },
    requiredBy: usable.map((rule) => rule.mode).filter((mode) => mode !== 'tcp'),
  };
}

function list(ports: readonly number[]): PortSelector {
  return { kind: 'list', ports: [...ports] };
}

/** The smallest selector covering every rule of one protocol. */
function selectorFor(rules: readonly WatchRule[], protocol: Protocol): PortSelector | null {
  const mine = rules.filter((rule) => rule.protocol === protocol);
  if (mine.length === 0) return null;
  const below = mine.map((rule) => (rule.ports.kind === 'below' ? rule.ports.limit : 0));
  const limit = Math.max(...below);
  const listed = [...new Set(mine.flatMap((rule) => (rule.ports.kind === 'list' ? rule.ports.ports : [])))].filter((port) => port > limit).sort((a, b) => a - b);
  if (limit === 0) return { kind: 'list', ports: listed };
  // Listed ports above the advanced range cannot be expressed with one range; watch up to the highest.
  return { kind: 'below', limit: listed.length === 0 ? limit : Math.max(limit, listed[listed.length - 1]!) };
}
