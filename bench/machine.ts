// What the figures were measured on: CPU, cores, kernel, Node, nft, date.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly kernel: string;
  readonly node: string;
  readonly nft: string;
  readonly iptables: string;
  readonly peer: string;
  readonly date: string;
}

async function versionOf(argv: readonly [string, ...string[]]): Promise<string> {
  try {
    const { stdout, stderr } = await run(argv[0], argv.slice(1));
    return (String(stdout) || String(stderr)).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function cpuModel(): Promise<string> {
  const fromOs = cpus()[0]?.model;
  if (fromOs !== undefined && fromOs !== '') return fromOs;
  const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return /model name\s*:\s*(.*)/.exec(text)?.[1] ?? 'unknown';
}

async function peerVersion(): Promise<string> {
  const { stdout } = await run('dpkg-query', ['-W', '-f', '${Version}', 'portsentry']).catch(() => ({ stdout: 'unknown' }));
  return `Debian portsentry ${String(stdout)}`;
}

export async function machineInfo(): Promise<MachineInfo> {
  return {
    cpuModel: await cpuModel(),
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    nft: await versionOf(['nft', '-v']),
    iptables: await versionOf(['iptables', '-V']),
    peer: await peerVersion(),
    date: new Date().toISOString(),
  };
}
