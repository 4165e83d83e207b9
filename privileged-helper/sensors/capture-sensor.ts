// Packet capture as a sensor: tcpdump reading an NFLOG group our nftables rules feed (or,
// without them, an interface through the plan's BPF filter), decoded packets turned into
// probes by the pure CaptureDetector, probes handed to the daemon. Packets the decoder
// dropped for an impossible source are reported as a count, never as probes.

import type { Clock, Probe } from '../../shared/domain/types.js';
import { CaptureDetector } from '../capture/capture-detector.js';
import { buildCaptureFilter } from '../capture/capture-filter.js';
import type { CapturePlan } from '../capture/capture-plan.js';
import type { DecodedPacket } from '../capture/packet-decoder.js';
import type { ListeningPorts } from '../capture/listening-ports.js';
import { startCapture, type CaptureStats } from '../capture/tcpdump-capture.js';
import { PENDING_LOG_PREFIX, REPLY_LOG_PREFIX, REPLY_TRAP_LOG_PREFIX, STRAY_LOG_PREFIX, SWEEP_LOG_PREFIX, TRAP_LOG_PREFIX, type NflogCapturePlan } from '../capture/nflog-capture.js';
import { discoveryKind, type Discovery } from '../engine/host-discovery.js';

export interface CaptureSensorOptions {
  readonly plan: CapturePlan;
  readonly ipv6: boolean;
  readonly clock: Clock;
  /** Who listens where, the helper's own tripwires left out: such ports are a service's, never watched. */
  readonly listening: ListeningPorts;
  /** `wireAt`: when the kernel captured the packet (its pcap timestamp, ms since the epoch). */
  readonly onProbe: (probe: Probe, wireAt: number) => void;
  readonly onFailure: (message: string) => void;
  /** A host discovery request to one of this host's addresses (only where `nflog.discovery` installed its rule). */
  readonly onDiscovery?: (discovery: Discovery) => void;
  /** Whether an address is one of this host's own: only packets to those can be probes. */
  readonly isOwnAddress: (address: string) => boolean;
  /** Every packet after the detector's verdict (the -tcp handshake tracker reads ACKs and RSTs). */
  readonly onPacket?: (packet: DecodedPacket, at: number) => void;
  /** More packets were dropped for an impossible source since the last call (checked every few seconds). */
  readonly onBadSources?: (stats: CaptureStats) => void;
  readonly tcpdumpPath?: string;
  /**
   * Read this NFLOG group, and once tcpdump reads it, have the rules that feed it installed
   * (`install` rejects: the sensor does not open). Absent: capture reads every interface.
   */
  readonly nflog?: { readonly group: number; readonly repeats: boolean; readonly discovery?: boolean; install(plan: NflogCapturePlan): Promise<void> };
}

export interface CaptureSensor {
  readonly filter: string;
  /** The NFLOG group read; null when reading interfaces. */
  readonly nflogGroup: number | null;
  stats(): CaptureStats;
  close(): Promise<void>;
}

const BAD_SOURCE_CHECK_MS = 2_000;

export async function openCaptureSensor(options: CaptureSensorOptions): Promise<CaptureSensor> {
  const detector = new CaptureDetector(options.plan.rules, options.listening, options.isOwnAddress, options.plan.watch.ipProtocolsInUse);
  const filter = buildCaptureFilter(options.plan.watch);
  const nflog = options.nflog;
  const capture = await startCapture({
    filter,
    ...(nflog !== undefined ? { nflogGroup: nflog.group } : {}),
    ...(options.tcpdumpPath !== undefined ? { tcpdumpPath: options.tcpdumpPath } : {}),
    onPacket: (packet, wireAt) => {
      if (packet.family === 6 && !options.ipv6) return;
      const at = options.clock();
      if (packet.protocol === 'icmp') {
        const kind = packet.logPrefix === SWEEP_LOG_PREFIX ? discoveryKind(packet.family, packet.icmpType ?? -1) : null;
        if (kind !== null && detector.addressedToUs(packet)) options.onDiscovery?.({ source: packet.source, family: packet.family, kind, at });
        return;
      }
      // The reply trap (kernel-trap.ts): a probe is held until the RST it drew says what the kernel did.
      if (packet.logPrefix === PENDING_LOG_PREFIX) {
        detector.hold(packet);
        return;
      }
      const reply = packet.logPrefix === REPLY_TRAP_LOG_PREFIX || packet.logPrefix === REPLY_LOG_PREFIX;
      const probe = reply
        ? detector.answered(packet, at, packet.logPrefix === REPLY_TRAP_LOG_PREFIX)
        : detector.inspect(packet, at, packet.logPrefix === TRAP_LOG_PREFIX, packet.logPrefix === STRAY_LOG_PREFIX);
      if (probe !== null) options.onProbe(probe, wireAt);
      else if (!reply && options.onPacket !== undefined && detector.addressedToUs(packet)) options.onPacket(packet, at);
    },
    onFailure: options.onFailure,
  });
  if (nflog !== undefined) {
    try {
      await nflog.install({ watch: options.plan.watch, group: nflog.group, repeats: nflog.repeats, ...(nflog.discovery === true ? { discovery: true } : {}) });
    } catch (error) {
      await capture.stop();
      throw error;
    }
  }
  let reported = 0;
  const timer = setInterval(() => {
    const stats = capture.stats();
    if (stats.badSource === reported) return;
    reported = stats.badSource;
    options.onBadSources?.(stats);
  }, BAD_SOURCE_CHECK_MS);
  timer.unref();
  return {
    filter,
    nflogGroup: nflog?.group ?? null,
    stats: () => capture.stats(),
    close: async () => {
      clearInterval(timer);
      await capture.stop();
    },
  };
}
