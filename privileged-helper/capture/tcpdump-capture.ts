// The thin I/O edge of the capture layer: tcpdump (libpcap) writes pcap to a pipe, we parse
// it. It reads either an interface with a BPF filter compiled into the kernel, or, where our
// nftables table is there, netfilter log group (`-i nflog:N`) that rules of ours feed
// (nflog-capture.ts), which sees no packet of a blocked source at all. No native addon, so nothing to rebuild per
// Node or Electron version; the README gives the measurements behind this choice.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { decodeFrame, type DecodeCounters, type DecodedPacket } from './packet-decoder.js';
import { PcapFormatError, PcapStreamParser } from './pcap-stream.js';

export interface CaptureOptions {
  /** What to read: an interface through a BPF filter, or an NFLOG group our nftables rules feed. */
  readonly filter: string;
  readonly nflogGroup?: number;
  /** Interface to watch; "any" sees every interface of this network namespace. */
  readonly interfaceName?: string;
  readonly tcpdumpPath?: string;
  readonly onPacket: (packet: DecodedPacket, at: number) => void;
  /** The capture died after it started (interface gone, tcpdump killed, corrupt stream). */
  readonly onFailure: (message: string) => void;
}

export interface CaptureStats {
  readonly frames: number;
  readonly undecoded: number;
  /** Frames dropped for a source no remote host can have (IPv4-mapped, multicast, ...). */
  readonly badSource: number;
  /** The last such source, as it was on the wire, and what is wrong with it. */
  readonly lastBadSource?: string;
  readonly lastProblem?: string;
}

export interface CaptureHandle {
  stats(): CaptureStats;
  stop(): Promise<void>;
}

export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

/** Bytes kept per packet: enough for link, IPv6 with a few extension headers, and TCP. */
const SNAP_LENGTH = 160;
/**
 * For NFLOG, libpcap sizes its receive buffer from the snap length, and the kernel may send
 * several log messages in one datagram: a short buffer cuts the datagram, losing the messages
 * after the cut and garbling the last one (measured: 6 of 16 probes). The kernel already cut
 * each packet (NFLOG_SNAPLEN), so the full default costs only buffer space.
 */
const NFLOG_SNAP_LENGTH = 262_144;
const START_TIMEOUT_MS = 10_000;

export function startCapture(options: CaptureOptions): Promise<CaptureHandle> {
  const program = options.tcpdumpPath ?? 'tcpdump';
  const args =
    options.nflogGroup !== undefined
      ? ['-i', `nflog:${options.nflogGroup}`, '-n', '-U', '--immediate-mode', '-s', String(NFLOG_SNAP_LENGTH), '-w', '-']
      : ['-i', options.interfaceName ?? 'any', '-p', '-n', '-U', '--immediate-mode', '-s', String(SNAP_LENGTH), '-w', '-', options.filter];
  return new Promise((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      // Its own process group: a Ctrl-C meant for the daemon must not end the capture first
      // (the daemon stops it itself, in order, and would otherwise report a failure).
      child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (error) {
      reject(new CaptureError(`cannot run ${program}: ${(error as Error).message}`));
      return;
    }
    const parser = new PcapStreamParser();
    let frames = 0;
    let undecoded = 0;
    const counters: DecodeCounters = { badSource: 0 };
    let started = false;
    let stopping = false;
    const stderrLines: string[] = [];
    const timer = setTimeout(() => fail(`${program} did not start capturing within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);

    const fail = (message: string) => {
      clearTimeout(timer);
      if (!started) {
        started = true; // settle once
        stopping = true; // the child's later 'close' is part of this failure, not a new one
        child.kill('SIGKILL');
        reject(new CaptureError(message));
      } else if (!stopping) {
        stopping = true;
        child.kill('SIGKILL');
        options.onFailure(message);
      }
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      fail(error.code === 'ENOENT' ? `${program} is not installed; the stealth and advanced modes need it (apt-get install tcpdump)` : `cannot run ${program}: ${error.message}`);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrLines.push(line);
      if (stderrLines.length > 20) stderrLines.shift();
      if (!started && /listening on/.test(line)) {
        started = true;
        clearTimeout(timer);
        resolve(handle);
      }
    });
    child.on('close', (code, signal) => {
      if (stopping) return;
      const why = stderrLines.filter((l) => !/listening on|data link type|packets? (captured|received|dropped)/.test(l)).join('; ') || `exit ${signal ?? String(code)}`;
      fail(`packet capture stopped: ${why}`);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      let records;
      try {
        records = parser.push(chunk);
      } catch (error) {
        fail(error instanceof PcapFormatError ? `packet capture stream is corrupt: ${error.message}` : String(error));
        return;
      }
      const linkType = parser.linkType ?? -1;
      for (const record of records) {
        frames += 1;
        const dropped = counters.badSource;
        const packet = decodeFrame(linkType, record.data, counters, parser.writerLittleEndian);
        if (packet !== null) options.onPacket(packet, record.at);
        else if (counters.badSource === dropped) undecoded += 1;
      }
    });

    const handle: CaptureHandle = {
      stats: () => ({ frames, undecoded, ...counters }),
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        stopping = true;
        const closed = new Promise<void>((r) => child.once('close', () => r()));
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await closed;
        clearTimeout(killer);
      },
    };
  });
}
