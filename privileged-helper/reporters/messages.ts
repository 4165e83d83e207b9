// The texts the helper logs, worded exactly as PortSentry 1.2 words them wherever the
// original had a message, so Logcheck rules and fail2ban filters written for it keep
// matching. Pure functions; one place to read every line the helper can print.

import { probeTarget, type Probe } from '../../shared/domain/types.js';
import type { ScanRecord } from '../../shared/domain/scan-record.js';

export const PRODUCT_VERSION = '1.2';

export const messages = {
  starting: () => `adminalert: PortSentry ${PRODUCT_VERSION} is starting.`,
  active: () => 'adminalert: PortSentry is now active and listening.',
  /** 1.2 writes both lines when it stops. */
  shuttingDown: () => ['securityalert: PortSentry is shutting down', 'adminalert: PortSentry is shutting down'] as const,
  listenTcp: (port: number) => `adminalert: Going into listen mode on TCP port: ${port}`,
  listenUdp: (port: number) => `adminalert: Going into listen mode on UDP port: ${port}`,
  stealthListen: (protocol: 'tcp' | 'udp', port: number) => `adminalert: Going into stealth listen mode on ${protocol.toUpperCase()} port: ${port}`,
  advancedMonitor: (limit: number) => `adminalert: Advanced mode will monitor first ${limit} ports`,
  advancedExclude: (port: number) => `adminalert: Advanced mode will manually exclude port: ${port} `,
  advancedExcludeNone: () => 'adminalert: Advanced mode will manually exclude no ports',
  advancedIgnoredListening: (protocol: 'tcp' | 'udp', port: number) => `adminalert: Advanced Stealth scan detection mode activated. Ignored ${protocol.toUpperCase()} port: ${port}`,
  cannotBindTcp: (port: number, why: string) => `adminalert: ERROR: could not bind TCP socket: ${port}. Attempting to continue (${why})`,
  cannotBindUdp: (port: number, why: string) => `adminalert: ERROR: could not bind UDP socket: ${port}. Attempting to continue (${why})`,
  cannotBindAny: (protocol: 'TCP' | 'UDP') => `adminalert: ERROR: could not bind ANY ${protocol} sockets.`,

  /** The detection line; `resolved` is the reverse name or the address again. */
  attack(probe: Probe, resolved: string): string {
    const proto = probe.protocol.toUpperCase();
    // The original's wording per path: tripwire sockets say "Connect", raw UDP says "UDP scan".
    const what = probe.kind === 'connect' || (probe.kind === 'udp' && probe.mode === 'udp') ? 'Connect' : probe.kind === 'udp' ? 'UDP scan' : stealthDescription(probe.tcpFlags ?? 0);
    // Not 1.2's (it never saw these): SCTP and IP protocol probes, in its style with nmap's names.
    if (probe.kind === 'sctp-init' || probe.kind === 'sctp-cookie-echo') {
      return `attackalert: SCTP ${probe.kind === 'sctp-init' ? 'INIT' : 'COOKIE-ECHO'} scan from host: ${resolved}/${probe.source} to SCTP port: ${probe.port}`;
    }
    if (probe.kind === 'ip-protocol') return `attackalert: IP protocol scan from host: ${resolved}/${probe.source} to IP protocol: ${probe.port}`;
    return `attackalert: ${what} from host: ${resolved}/${probe.source} to ${proto} port: ${probe.port}`;
  },
  ipOptions: (resolved: string, source: string, port: number) => `attackalert: Packet from host: ${resolved}/${source} to TCP port: ${port} has IP options set (detection avoidance technique).`,
  /** 1.2's wording differs by mode: the stealth and advanced modes name the host twice, without the dot. */
  alreadyBlocked: (source: string, stealth = false) => (stealth ? `attackalert: Host: ${source}/${source} is already blocked Ignoring` : `attackalert: Host: ${source} is already blocked. Ignoring`),
  ignored: (source: string, why: string) => `attackalert: Host: ${source} is ${why}. Ignoring`,
  /** `command` is the backend's own description of the block (BlockBackend.describeBlock); `why` says who asked, for blocks not made by detection. */
  blockedViaRoute: (source: string, command: string, why?: string) =>
    `attackalert: Host ${source} has been blocked via dropped route using command: "${command}"${why === undefined ? '' : ` (${why})`}`,
  blockedViaWrappers: (source: string, line: string) => `attackalert: Host ${source} has been blocked via wrappers with string: "${line}"`,
  externalCommand: (source: string, command: string) => `attackalert: External command run for host: ${source} using command: "${command}"`,
  couldNotBlock: (source: string, why: string) => `attackalert: ERROR: Could not block host ${source} !! (${why})`,
  commandFailed: (source: string, command: string, why: string) => `adminalert: ERROR: There was an error trying to run command for host ${source}: "${command}" (${why})`,
  responseIgnored: (protocol: 'TCP' | 'UDP') => `attackalert: Ignoring ${protocol} response per configuration file setting.`,
  /** Not 1.2's (1.2 said "already blocked" for a host it only reported, which was not true). */
  alreadyReported: (source: string, why: string) => `attackalert: Host: ${source} was reported already and is not blocked (${why}). Ignoring`,
  /** Not 1.2's: a touch the scan score reports without a block (engine/scan-score.ts). No "from host:", so 1.2 filters do not take it for a scan. */
  lanTouch: (probe: Probe, why: string) => `attackalert: Host: ${probe.source} touched ${probeTarget(probe).replace(/ (?=\d+$)/, ': ')}, reported, not blocked: ${why}`,
  /**
   * Not 1.2's (it never saw ICMP): a host discovery sweep (engine/host-discovery.ts), in the
   * attack line's shape, so 1.2 filters take it for a scan; `what` says what was done.
   */
  sweep: (words: string, source: string, what: string) => `attackalert: ${words} from host: ${source}/${source}: ${what}`,
  /** Not 1.2's: a block made longer because the host was blocked before (engine/repeat-offender.ts). */
  repeatOffender: (source: string, why: string) => `attackalert: Host ${source} is a ${why}`,
  /** Not 1.2's (SCAN_SUMMARY_LOG, off by default): one line per scan, as scanlogd and psad write. */
  scanSummary: (record: ScanRecord) => {
    const ports = (name: string, list: readonly number[]) => (list.length === 0 ? [] : [`${name} ports ${list.join(',')}`]);
    const what = [...ports('TCP', record.ports.tcp), ...ports('UDP', record.ports.udp)].join(' ') || 'this host (host discovery)';
    return `attackalert: Scan summary: host ${record.scanner}: ${record.probes} ${record.probes === 1 ? 'probe' : 'probes'} (${record.kinds.join(', ')}) to ${what} between ${new Date(record.firstProbe).toISOString()} and ${new Date(record.lastProbe).toISOString()}: ${record.outcome}`;
  },
  blockExpired: (source: string) => `attackalert: Host ${source} block has expired and was lifted`,
  unblocked: (source: string, why: string) => `attackalert: Host ${source} has been unblocked (${why})`,
  reloaded: (file: string) => `adminalert: Configuration reloaded from ${file}`,
  reloadFailed: (why: string) => `adminalert: ERROR: new configuration rejected, still running the previous one: ${why}`,
  trapArmed: (ranges: number) => `adminalert: Kernel trap armed on ${ranges} port ranges: the first probe blocks its sender before any reply`,
  controlListening: (path: string) => `adminalert: Control socket listening on ${path}`,
  adminControlListening: (path: string) => `adminalert: Admin control socket (root only) listening on ${path}`,
  /** Only for something that failed or left protection short; news that is fine is a notice. */
  warning: (what: string) => `adminalert: WARNING: ${what}`,
  notice: (what: string) => `adminalert: ${what}`,
  error: (what: string) => `adminalert: ERROR: ${what}`,
} as const;

/** The original's ReportPacketType wording for a stealth TCP probe. */
export function stealthDescription(flags: number): string {
  const fin = flags & 0x01 ? 1 : 0;
  const syn = flags & 0x02 ? 1 : 0;
  const rst = flags & 0x04 ? 1 : 0;
  const psh = flags & 0x08 ? 1 : 0;
  const ack = flags & 0x10 ? 1 : 0;
  const urg = flags & 0x20 ? 1 : 0;
  // The leading space is 1.2's own (" TCP NULL scan"), so its line reads "attackalert:  TCP NULL scan".
  if (!syn && !fin && !ack && !psh && !rst && !urg) return ' TCP NULL scan';
  if (fin && urg && psh) return 'TCP XMAS scan';
  if (fin && !syn && !ack && !psh && !rst && !urg) return 'TCP FIN scan';
  if (syn && !fin && !ack && !psh && !rst && !urg) return 'TCP SYN/Normal scan';
  // Not 1.2's (it never saw these): nmap's names. A Window scan (-sW) sends the ACK scan's probe.
  if (ack && !syn && !fin && !psh && !rst && !urg) return 'TCP ACK scan';
  if (ack && fin && !syn && !psh && !rst && !urg) return 'TCP Maimon scan';
  return `Unknown Type: TCP Packet Flags: SYN: ${syn} FIN: ${fin} ACK: ${ack} PSH: ${psh} URG: ${urg} RST: ${rst}`;
}
