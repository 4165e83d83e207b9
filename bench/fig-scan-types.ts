// Figure 2, the scan matrix: which nmap scan types each detector blackholes, IPv4 and IPv6,
// in its stealth and advanced modes, and how many port (or protocol) states nmap learned
// anyway (open, closed or unfiltered: everything else is filtered, which says nothing). Each
// scan comes from a fresh source address (nmap -S, -e eth0). Besides 1.2's kinds (connect,
// SYN, FIN, NULL, XMAS, UDP), the ones 1.2 never caught: ACK, Window, Maimon, SCTP INIT and
// COOKIE-ECHO, IP protocol.

import type { BenchLab } from './bench-lab.js';
import { TCP_TRIPWIRES, UDP_TRIPWIRES, type BenchConfigPaths } from './configs.js';
import { becomesBlocked, startDetector, type Detector } from './detectors.js';
import { learnedPortsFromXml } from './fig-leak.js';

export const SCAN_TYPES = ['-sT', '-sS', '-sF', '-sN', '-sX', '-sU', '-sA', '-sW', '-sM', '-sY', '-sZ', '-sO'] as const;
export type ScanType = (typeof SCAN_TYPES)[number];

export interface ScanTypeRow {
  readonly detector: Detector;
  readonly modes: string;
  readonly scan: ScanType;
  readonly family: 4 | 6;
  readonly blocked: boolean;
  /** Port (protocol, for -sO) states nmap reported open, closed or unfiltered; null when nmap failed. */
  readonly learned: number | null;
  /** What happened when not blocked (e.g. the peer has no IPv6). */
  readonly note: string;
}

const TCP_LOW = TCP_TRIPWIRES.filter((p) => p < 1024);
const UDP_LOW = UDP_TRIPWIRES.filter((p) => p < 1024);
/** IP protocols no socket on the target uses: what an IP protocol scan (-sO) asks about. */
const UNUSED_PROTOCOLS = [99, 100, 253];

export function nmapArgv(scan: ScanType, family: 4 | 6, source: string, target: string): string[] {
  // Ports inside both the tripwire lists and the advanced range, so one list serves both modes
  // (SCTP is watched on the TCP ports).
  const ports = scan === '-sU' ? UDP_LOW : scan === '-sO' ? UNUSED_PROTOCOLS : TCP_LOW;
  return [
    'nmap',
    `-${family}`,
    scan,
    '-Pn',
    '-n',
    '-e',
    'eth0',
    '-S',
    source,
    '--max-retries',
    '0',
    '--initial-rtt-timeout',
    '50ms',
    '--max-rtt-timeout',
    '100ms',
    '-oX',
    '-',
    '-p',
    ports.join(','),
    target,
  ];
}

export async function scanTypes(bench: BenchLab, configs: BenchConfigPaths, scans: readonly ScanType[] = SCAN_TYPES): Promise<ScanTypeRow[]> {
  const rows: ScanTypeRow[] = [];
  const setups: Array<[Detector, string[]]> = [
    ['peer', ['stcp', 'sudp']],
    ['peer', ['atcp', 'audp']],
    ['ours', ['stcp', 'sudp']],
    ['ours', ['atcp', 'audp']],
  ];
  for (const [detector, modes] of setups) {
    const running = await startDetector(bench, configs, detector, modes);
    try {
      for (const scan of scans) {
        for (const family of [4, 6] as const) {
          const [fresh] = await bench.freshSources(1);
          const source = family === 4 ? fresh!.v4 : fresh!.v6;
          const target = family === 4 ? bench.target.v4 : bench.target.v6;
          const scanRun = await bench.lab.exec(bench.attacker, nmapArgv(scan, family, source, target), { allowFailure: true, timeoutMs: 60_000 });
          const blocked = scanRun.code === 0 && (await becomesBlocked(running, source, 1500));
          let note = '';
          if (scanRun.code !== 0) note = `nmap failed: ${scanRun.stderr.trim().split('\n').pop() ?? ''}`;
          else if (!blocked && detector === 'peer' && family === 6) note = 'not seen: portsentry 1.2 is IPv4-only';
          else if (!blocked) note = 'not blocked';
          const learned = scanRun.code === 0 ? learnedPortsFromXml(scanRun.stdout) : null;
          rows.push({ detector, modes: modes.map((m) => `-${m}`).join(' '), scan, family, blocked, learned, note });
        }
      }
    } finally {
      await running.stop();
    }
  }
  return rows;
}
