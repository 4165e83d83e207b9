// False blocks on a laptop's LAN: the neighbours' discovery and service traffic of the
// benign-LAN e2e test (test/support/lan-traffic.ts: 25 kinds from 12 devices on the link, none
// in the ignore list, and late replies to the target's own DNS, NTP and SSDP queries) played at
// each detector in each mode pair; counted: which devices end up blocked (read back from the
// firewall). The end is a barrier, not a wait: a sentinel's datagram to UDP 700 (a tripwire in
// every mode of both tools), sent after everything else, is blocked; only then is the firewall
// read. The peer is IPv4-only, so the one IPv6 device can only be blocked by ours.

import type { BenchLab } from './bench-lab.js';
import type { BenchConfigPaths } from './configs.js';
import { becomesBlocked, startDetector, type Detector } from './detectors.js';
import { ADDRESS, deviceAddressArgv, DEVICES, KINDS, udp, type Device } from '../test/support/lan-traffic.js';

export interface FalseBlocksRow {
  readonly detector: Detector;
  readonly modes: string;
  readonly kinds: number;
  readonly devices: number;
  /** The devices blocked, by name. */
  readonly blocked: readonly Device[];
  /** The sentinel was blocked (the barrier held); false: the row says nothing. */
  readonly barrier: boolean;
}

const MODE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['tcp', 'udp'],
  ['stcp', 'sudp'],
  ['atcp', 'audp'],
];

export async function falseBlocks(bench: BenchLab, configs: BenchConfigPaths): Promise<FalseBlocksRow[]> {
  const devicesOn = bench.attacker;
  for (const device of DEVICES) await bench.lab.exec(devicesOn, deviceAddressArgv(device), { allowFailure: true });
  // The target's multicast queries (SSDP, LLMNR, WS-Discovery) need a route out.
  await bench.lab.exec(bench.target, ['ip', 'route', 'replace', '224.0.0.0/4', 'dev', 'eth0']);
  const rows: FalseBlocksRow[] = [];
  // The peer first in each pair, as in figure 1 (its tripwires bind without SO_REUSEADDR).
  for (const modes of MODE_PAIRS) {
    for (const detector of ['peer', 'ours'] as const) {
      const modeWords = modes.join(' ');
      const running = await startDetector(bench, configs, detector, modes);
      try {
        for (const kind of KINDS) {
          if (kind.query !== undefined) await bench.lab.exec(bench.target, kind.query(bench.target.v4, modeWords), { allowFailure: true });
          await bench.lab.exec(devicesOn, kind.play(bench.target.v4, bench.target.v6, modeWords), { allowFailure: true });
        }
        const [sentinel] = await bench.freshSources(1);
        await bench.lab.exec(bench.attacker, udp(sentinel!.v4, 40_700, bench.target.v4, 700), { allowFailure: true });
        const barrier = await becomesBlocked(running, sentinel!.v4, 60_000);
        const held = await running.blocked();
        rows.push({ detector, modes: modes.map((m) => `-${m}`).join(' '), kinds: KINDS.length, devices: DEVICES.length, blocked: DEVICES.filter((d) => held.has(ADDRESS[d])), barrier });
      } finally {
        await running.stop();
      }
    }
  }
  return rows;
}
