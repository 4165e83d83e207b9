// One configuration, two detectors: the same tripwire ports, advanced ranges and ignore list
// for portsentryd and for Debian's portsentry 1.2; only the block differs (our nftables set
// vs the peer's classic one iptables rule per host). Text builders are pure.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** PortSentry 1.2's shipped tripwire lists (also our embedded defaults). */
export const TCP_TRIPWIRES = [1, 11, 15, 79, 111, 119, 143, 540, 635, 1080, 1524, 2000, 5742, 6667, 12345, 12346, 20034, 27665, 31337, 32771, 32772, 32773, 32774, 40421, 49724, 54320];
export const UDP_TRIPWIRES = [1, 7, 9, 69, 161, 162, 513, 635, 640, 641, 700, 37444, 34555, 31335, 32770, 32771, 32772, 32773, 32774, 31337, 54321];
export const TRIGGER_TCP_PORT = 31337;
export const TRIGGER_UDP_PORT = 31337;
/** An unused port inside the advanced range and outside the tripwire lists. */
export const ADVANCED_TRIGGER_PORT = 555;
export const OUR_TABLE = 'psbench';
export const PEER_KILL_ROUTE = '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP';

export interface BenchConfigPaths {
  readonly dir: string;
  readonly ours: string;
  /**
   * Ours without the per-prefix block rate limit (BLOCK_RATE_PER_PREFIX=0): for the raw
   * throughput of figure 4, where the peer has no such limit; the limit itself is what the
   * flood figure and the hostile-sources tests exercise.
   */
  readonly oursNoPrefixLimit: string;
  /**
   * Ours with the shipped REPEAT_LOG="minute" (portsentryd.conf as installed): every other
   * figure leaves the key unset, which means 1.2's "every", so both detectors log alike.
   */
  readonly oursRepeatMinute: string;
  readonly peer: string;
}

function commonLines(dir: string, name: string): string[] {
  return [
    `TCP_PORTS="${TCP_TRIPWIRES.join(',')}"`,
    `UDP_PORTS="${UDP_TRIPWIRES.join(',')}"`,
    'ADVANCED_PORTS_TCP="1024"',
    'ADVANCED_PORTS_UDP="1024"',
    'ADVANCED_EXCLUDE_TCP="113,139"',
    'ADVANCED_EXCLUDE_UDP="520,138,137,67"',
    `IGNORE_FILE="${join(dir, 'portsentry.ignore')}"`,
    `HISTORY_FILE="${join(dir, `${name}.history`)}"`,
    `BLOCKED_FILE="${join(dir, `${name}.blocked`)}"`,
    'RESOLVE_HOST="0"',
    'BLOCK_TCP="1"',
    'BLOCK_UDP="1"',
    'SCAN_TRIGGER="0"',
  ];
}

/** Our event store, a fresh file per daemon start (ours.ts deletes it) so no run restores another's blocks. */
export function ourStoreFile(dir: string): string {
  return join(dir, 'ours-events.db');
}

export function ourConfigText(dir: string): string {
  return [
    ...commonLines(dir, 'ours'),
    'BLOCK_BACKEND="nftables"',
    `NFT_TABLE="${OUR_TABLE}"`,
    `SYSLOG_SOCKET="${join(dir, 'no-syslog.sock')}"`,
    `RPC_SOCKET="${join(dir, 'helper.sock')}"`,
    `RPC_ADMIN_SOCKET="${join(dir, 'admin', 'helper.sock')}"`,
    `STORE_FILE="${ourStoreFile(dir)}"`,
    `OPERATOR_SETTINGS_FILE="${join(dir, 'operator-settings.conf')}"`,
    // Host blocks for IPv6 too, so "is this source blocked" reads the same for both
    // detectors; the /64 aggregation is tested end to end (test/e2e/blocking-under-attack).
    'BLOCK_PREFIX6="128"',
    '',
  ].join('\n');
}

export function peerConfigText(dir: string): string {
  return [...commonLines(dir, 'peer'), `KILL_ROUTE="${PEER_KILL_ROUTE}"`, ''].join('\n');
}

/** The ignore list both read: the classic static entries plus the lab's target and client. */
export function ignoreText(ownAddresses: readonly string[]): string {
  return ['127.0.0.1/32', '0.0.0.0', ...ownAddresses, ''].join('\n');
}

export async function writeBenchConfigs(dir: string, ownAddresses: readonly string[]): Promise<BenchConfigPaths> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'portsentry.ignore'), ignoreText(ownAddresses));
  await writeFile(join(dir, 'ours.conf'), ourConfigText(dir));
  await writeFile(join(dir, 'ours-no-prefix-limit.conf'), `${ourConfigText(dir)}BLOCK_RATE_PER_PREFIX="0"\n`);
  await writeFile(join(dir, 'ours-repeat-minute.conf'), `${ourConfigText(dir)}REPEAT_LOG="minute"\n`);
  await writeFile(join(dir, 'peer.conf'), peerConfigText(dir));
  return {
    dir,
    ours: join(dir, 'ours.conf'),
    oursNoPrefixLimit: join(dir, 'ours-no-prefix-limit.conf'),
    oursRepeatMinute: join(dir, 'ours-repeat-minute.conf'),
    peer: join(dir, 'peer.conf'),
  };
}
