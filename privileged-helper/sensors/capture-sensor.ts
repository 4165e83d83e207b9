// Packet capture as a sensor: tcpdump with the plan's BPF filter, decoded packets turned
// into probes by the pure CaptureDetector, probes handed to the daemon.

import type { Clock, Probe } from '../../shared/domain/types.js';
import { CaptureDetector } from '../capture/capture-detector.js';
import { buildCaptureFilter } from '../capture/capture-filter.js';
import type { CapturePlan } from '../capture/capture-plan.js';
import { ProcListeningPorts } from '../capture/listening-ports.js';
import { startCapture, type CaptureStats } from '../capture/tcpdump-capture.js';

export interface CaptureSensorOptions {
  readonly plan: CapturePlan;
  readonly ipv6: boolean;
  readonly clock: Clock;
  readonly onProbe: (probe: Probe) => void;
  readonly onFailure: (message: string) => void;
  readonly tcpdumpPath?: string;
}

export interface CaptureSensor {
  readonly filter: string;
  stats(): CaptureStats;
  close(): Promise<void>;
}

export async function openCaptureSensor(options: CaptureSensorOptions): Promise<CaptureSensor> {
  const listening = new ProcListeningPorts();
  listening.refresh();
  const detector = new CaptureDetector(options.plan.rules, listening);
  const filter = buildCaptureFilter(options.plan.watch);
  const capture = await startCapture({
    filter,
    ...(options.tcpdumpPath !== undefined ? { tcpdumpPath: options.tcpdumpPath } : {}),
    onPacket: (packet) => {
      if (packet.family === 6 && !options.ipv6) return;
      const probe = detector.inspect(packet, options.clock());
      if (probe !== null) options.onProbe(probe);
    },
    onFailure: options.onFailure,
  });
  return { filter, stats: () => capture.stats(), close: () => capture.stop() };
}
