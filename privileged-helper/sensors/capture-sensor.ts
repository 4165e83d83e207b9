// Packet capture as a sensor: tcpdump with the plan's BPF filter, decoded packets turned
// into probes by the pure CaptureDetector, probes handed to the daemon. Packets the decoder
// dropped for an impossible source are reported as a count, never as probes.

import type { Clock, Probe } from '../../shared/domain/types.js';
import { CaptureDetector } from '../capture/capture-detector.js';
import { buildCaptureFilter } from '../capture/capture-filter.js';
import type { CapturePlan } from '../capture/capture-plan.js';
import type { DecodedPacket } from '../capture/packet-decoder.js';
import type { ListeningPorts } from '../capture/listening-ports.js';
import { startCapture, type CaptureStats } from '../capture/tcpdump-capture.js';

export interface CaptureSensorOptions {
  readonly plan: CapturePlan;
  readonly ipv6: boolean;
  readonly clock: Clock;
  /** Who listens where, the helper's own tripwires left out: such ports are a service's, never watched. */
  readonly listening: ListeningPorts;
  /** `wireAt`: when the kernel captured the packet (its pcap timestamp, ms since the epoch). */
  readonly onProbe: (probe: Probe, wireAt: number) => void;
  readonly onFailure: (message: string) => void;
  /** Whether an address is one of this host's own: only packets to those can be probes. */
  readonly isOwnAddress: (address: string) => boolean;
  /** Every packet after the detector's verdict (the -tcp handshake tracker reads ACKs and RSTs). */
  readonly onPacket?: (packet: DecodedPacket, at: number) => void;
  /** More packets were dropped for an impossible source since the last call (checked every few seconds). */
  readonly onBadSources?: (stats: CaptureStats) => void;
  readonly tcpdumpPath?: string;
}

export interface CaptureSensor {
  readonly filter: string;
  stats(): CaptureStats;
  close(): Promise<void>;
}

const BAD_SOURCE_CHECK_MS = 2_000;

export async function openCaptureSensor(options: CaptureSensorOptions): Promise<CaptureSensor> {
  const detector = new CaptureDetector(options.plan.rules, options.listening, options.isOwnAddress);
  const filter = buildCaptureFilter(options.plan.watch);
  const capture = await startCapture({
    filter,
    ...(options.tcpdumpPath !== undefined ? { tcpdumpPath: options.tcpdumpPath } : {}),
    onPacket: (packet, wireAt) => {
      if (packet.family === 6 && !options.ipv6) return;
      const at = options.clock();
      const probe = detector.inspect(packet, at);
      if (probe !== null) options.onProbe(probe, wireAt);
      else if (options.onPacket !== undefined && detector.addressedToUs(packet)) options.onPacket(packet, at);
    },
    onFailure: options.onFailure,
  });
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
    stats: () => capture.stats(),
    close: async () => {
      clearInterval(timer);
      await capture.stop();
    },
  };
}
