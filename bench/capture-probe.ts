// Runs inside the target's namespace: the daemon's capture pipe without the daemon. tcpdump
// with the same argv as privileged-helper/capture/tcpdump-capture.ts and the advanced-mode
// filter from capture-filter.ts, its pcap stream parsed by the product's PcapStreamParser and
// decodeFrame. Counts frames, measures how long a frame takes from the kernel's timestamp to
// this process, and reads tcpdump's own "dropped by kernel" counter when stopped.
// Prints "ready" once capturing; on stdin "stop\n" prints one JSON line and exits.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { buildCaptureFilter } from '../privileged-helper/capture/capture-filter.js';
import { decodeFrame } from '../privileged-helper/capture/packet-decoder.js';
import { PcapStreamParser } from '../privileged-helper/capture/pcap-stream.js';

export const ADVANCED_FILTER = buildCaptureFilter({ tcp: { kind: 'below', limit: 1024 }, udp: { kind: 'below', limit: 1024 }, outbound: true });
/** The argv tcpdump-capture.ts uses (kept in step by hand: it is not exported). */
export function tcpdumpArgv(filter: string): string[] {
  return ['-i', 'any', '-p', '-n', '-U', '--immediate-mode', '-s', '160', '-w', '-', filter];
}

export interface CaptureProbeResult {
  readonly frames: number;
  readonly decoded: number;
  readonly receivedByFilter: number | null;
  readonly droppedByKernel: number | null;
  /** Sampled: ms from the kernel's capture timestamp to the frame being decoded here. */
  readonly latencySamplesMs: number[];
}

function main(): void {
  const tcpdump = spawn('tcpdump', tcpdumpArgv(ADVANCED_FILTER), { stdio: ['ignore', 'pipe', 'pipe'] });
  const parser = new PcapStreamParser();
  let frames = 0;
  let decoded = 0;
  const latencySamplesMs: number[] = [];
  const stderr: string[] = [];
  tcpdump.stdout.on('data', (chunk: Buffer) => {
    const now = performance.timeOrigin + performance.now();
    for (const record of parser.push(chunk)) {
      frames += 1;
      if (decodeFrame(parser.linkType ?? -1, record.data) !== null) decoded += 1;
      if (frames % 16 === 1 && latencySamplesMs.length < 20_000) latencySamplesMs.push(now - record.at);
    }
  });
  createInterface({ input: tcpdump.stderr }).on('line', (line) => {
    stderr.push(line);
    if (/listening on/.test(line)) process.stdout.write('ready\n');
  });
  tcpdump.on('close', () => {
    const number = (pattern: RegExp) => {
      const match = stderr.map((l) => pattern.exec(l)).find((m) => m !== null);
      return match?.[1] === undefined ? null : Number(match[1]);
    };
    const result: CaptureProbeResult = {
      frames,
      decoded,
      receivedByFilter: number(/(\d+) packets? received by filter/),
      droppedByKernel: number(/(\d+) packets? dropped by kernel/),
      latencySamplesMs,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    // Let the pipe drain before asking tcpdump for its counters.
    if (line === 'stop') setTimeout(() => tcpdump.kill('SIGINT'), 500);
  });
}

if (process.argv[1]?.endsWith('capture-probe.js') === true) main();
