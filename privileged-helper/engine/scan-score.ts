// What one probe weighs toward "this is a scan", in the manner of scanlogd (a weight per
// distinct port, a threshold over a window) and psad (danger by what was touched): so that the
// discovery and service traffic a laptop meets on home, office and cafe networks (a neighbour's
// SMB browse, a printer manager's SNMP query, a DHCP offer, Spotify's or KDE Connect's
// discovery) is reported, not blocked, while a scan still acts at its first probe.
//
// The rule, with the default weights: a lone touch of a LAN service port from an ON-LINK
// neighbour (its source inside one of this host's interface networks) weighs less than the
// threshold, and is reported; a second distinct service, any other watched port (every
// tripwire: 31337, 12345... no real client touches them), or any probe from off-link reaches
// the threshold and acts at once. The ports of one service (SMB on 139 and 445, DHCP on 67
// and 68) count once. "classic" keeps PortSentry 1.2's behaviour: every probe counts.
// Pure: no I/O; the daemon says whether the source is on-link.

import type { ScanScoring } from '../../shared/domain/config-keys.js';
import { probeTarget, type Protocol, type ScanKind } from '../../shared/domain/types.js';

export interface ScoreOptions {
  readonly scoring: ScanScoring;
  /** The score at which a source is acted on (SCAN_SCORE_THRESHOLD). */
  readonly threshold: number;
  /** Weight of any watched port that is not an on-link LAN service touch (SCAN_SCORE_PORT). */
  readonly portWeight: number;
  /** Weight of an on-link neighbour's touch of a LAN service, once per service (SCAN_SCORE_LAN_SERVICE). */
  readonly lanServiceWeight: number;
  readonly lanTcp: ReadonlySet<number>;
  readonly lanUdp: ReadonlySet<number>;
}

export interface Weighed {
  /** What counts once per source and window: a service, or a protocol and port. */
  readonly key: string;
  readonly weight: number;
  /** The LAN service an on-link neighbour touched (for the report); null for any other touch. */
  readonly service: string | null;
}

/** The services whose ports count as one; a listed port not named here is its own service. */
const SERVICES: ReadonlyArray<readonly [name: string, tcp: readonly number[], udp: readonly number[]]> = [
  ['SMB/NetBIOS', [139, 445], [137, 138]],
  ['DHCP', [], [67, 68]],
  ['SNMP', [], [161, 162]],
  ['IPP printing', [631], []],
  ['KDE Connect', [1716], [1716]],
  ['SSDP/UPnP', [2869], [1900]],
  ['WS-Discovery', [3702, 5357], [3702]],
  ['mDNS', [5353], [5353]],
  ['LLMNR', [5355], [5355]],
  ['Dropbox LAN sync', [17500], [17500]],
  ['Steam', [27036], [27036]],
  ['Spotify', [57621], [57621]],
];

/** The service a port belongs to, for the report and for counting its ports once. */
export function serviceName(protocol: Protocol, port: number): string {
  for (const [name, tcp, udp] of SERVICES) if ((protocol === 'tcp' ? tcp : udp).includes(port)) return name;
  return `${protocol.toUpperCase()} port ${port}`;
}

export function weigh(probe: { readonly protocol: Protocol; readonly port: number; readonly kind?: ScanKind }, onLink: boolean, options: ScoreOptions): Weighed {
  // An SCTP or IP protocol probe is no LAN service's touch (the kernel trap blocks it at once too).
  const otherProtocol = probe.kind === 'sctp-init' || probe.kind === 'sctp-cookie-echo' || probe.kind === 'ip-protocol';
  const lan = probe.protocol === 'tcp' ? options.lanTcp : options.lanUdp;
  if (options.scoring === 'lan' && onLink && !otherProtocol && lan.has(probe.port)) {
    const service = serviceName(probe.protocol, probe.port);
    return { key: `service ${service}`, weight: options.lanServiceWeight, service };
  }
  return {
    key: otherProtocol ? probeTarget({ ...probe, kind: probe.kind! }) : `${probe.protocol}/${probe.port}`,
    weight: options.scoring === 'classic' ? options.threshold : options.portWeight,
    service: null,
  };
}

/**
 * What the kernel trap may decide alone, at the first probe: whether any first touch acts at
 * once (else the trap must be off, as with SCAN_TRIGGER > 1), and whether on-link LAN service
 * touches must be left to user space (they would only be reported).
 */
export function kernelScope(options: ScoreOptions): { firstTouchActs: boolean; leaveLanToUserSpace: boolean } {
  if (options.scoring === 'classic') return { firstTouchActs: true, leaveLanToUserSpace: false };
  return { firstTouchActs: options.portWeight >= options.threshold, leaveLanToUserSpace: options.lanServiceWeight < options.threshold };
}

/** The score options of a config. */
export function scoreOptions(config: {
  readonly scanScoring: ScanScoring;
  readonly scanScoreThreshold: number;
  readonly scanScorePort: number;
  readonly scanScoreLanService: number;
  readonly lanServicePortsTcp: readonly number[];
  readonly lanServicePortsUdp: readonly number[];
}): ScoreOptions {
  return {
    scoring: config.scanScoring,
    threshold: config.scanScoreThreshold,
    portWeight: config.scanScorePort,
    lanServiceWeight: config.scanScoreLanService,
    lanTcp: new Set(config.lanServicePortsTcp),
    lanUdp: new Set(config.lanServicePortsUdp),
  };
}
