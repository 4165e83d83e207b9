// The peer under test: Debian's portsentry 1.2, launched through peer-launcher in a private
// mount namespace inside the target's network namespace, found again by its pids there,
// and its blocks (one iptables rule per host, INPUT chain) read back.

import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { benchScript, type BenchLab } from './bench-lab.js';
import { pollUntil, runArgv } from './processes.js';

export interface PeerDaemon {
  readonly pids: readonly number[];
  /** performance.now() here when the launcher was spawned. */
  readonly spawnedAt: number;
  /** performance.now() here of the launcher's moment just before it exec'd the peer (same epoch clock). */
  readonly execAt: number;
  stop(): Promise<void>;
}

async function peerPids(bench: BenchLab): Promise<number[]> {
  const { stdout } = await runArgv(['ip', 'netns', 'pids', bench.target.netns], { allowFailure: true });
  const pids: number[] = [];
  for (const text of stdout.split(/\s+/).filter((s) => s !== '')) {
    const comm = await readFile(`/proc/${text}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'portsentry') pids.push(Number(text));
  }
  return pids;
}

/** Starts one portsentry per mode; resolves once all of them are running (not necessarily bound). */
export async function startPeer(bench: BenchLab, configPath: string, modes: readonly string[]): Promise<PeerDaemon> {
  const spawnedAt = performance.now();
  const { stdout } = await bench.lab.exec(bench.target, ['unshare', '--mount', '--propagation', 'private', process.execPath, benchScript('peer-launcher'), configPath, ...modes]);
  const execAt = parseLauncherExecAt(stdout) - performance.timeOrigin;
  let pids: number[] = [];
  const found = await pollUntil(async () => (pids = await peerPids(bench)).length >= modes.length, 5000, 10);
  if (!found) throw new Error(`peer portsentry did not stay up (${pids.length} of ${modes.length} running)`);
  return {
    pids,
    spawnedAt,
    execAt,
    stop: async () => {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await pollUntil(async () => (await peerPids(bench)).length === 0, 3000, 20);
      await flushPeerRules(bench);
    },
  };
}

/** The launcher's `{"execAt": epoch ms}` line. Pure. */
export function parseLauncherExecAt(stdout: string): number {
  const line = stdout.trim().split('\n').pop() ?? '';
  const execAt = (JSON.parse(line) as { execAt?: unknown }).execAt;
  if (typeof execAt !== 'number' || !Number.isFinite(execAt)) throw new Error(`peer launcher printed no exec time: ${line.slice(0, 200)}`);
  return execAt;
}

export async function flushPeerRules(bench: BenchLab): Promise<void> {
  await bench.lab.exec(bench.target, ['iptables', '-F', 'INPUT'], { allowFailure: true });
}

/** Source addresses of the peer's DROP rules. */
export async function peerBlocked(bench: BenchLab): Promise<Set<string>> {
  const { stdout } = await bench.lab.exec(bench.target, ['iptables', '-S', 'INPUT'], { allowFailure: true, timeoutMs: 120_000 });
  return new Set(parsePeerRules(stdout));
}

/** `-A INPUT -s 198.18.8.1/32 -j DROP` -> 198.18.8.1. Pure. */
export function parsePeerRules(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^-A INPUT -s (\S+?)(?:\/32)? -j DROP/.exec(line.trim());
    if (match?.[1] !== undefined) out.push(match[1]);
  }
  return out;
}

/** Waits until the peer's sockets are up: TCP/UDP listeners for -tcp/-udp, raw sockets for the others. */
export async function waitPeerReady(bench: BenchLab, modes: readonly string[], tcpPorts: readonly number[], udpPorts: readonly number[], timeoutMs = 10_000): Promise<boolean> {
  return pollUntil(async () => isPeerReady(bench, modes, tcpPorts, udpPorts), timeoutMs, 2);
}

export async function isPeerReady(bench: BenchLab, modes: readonly string[], tcpPorts: readonly number[], udpPorts: readonly number[]): Promise<boolean> {
  const { stdout } = await bench.lab.exec(bench.target, ['ss', '-Hlntuwp'], { allowFailure: true });
  const peerLines = stdout.split('\n').filter((l) => l.includes('"portsentry"'));
  const bound = (proto: string, port: number) => peerLines.some((l) => l.startsWith(proto) && new RegExp(`:${port}\\s`).test(l));
  if (modes.includes('tcp') && !tcpPorts.every((p) => bound('tcp', p))) return false;
  if (modes.includes('udp') && !udpPorts.every((p) => bound('udp', p))) return false;
  const rawNeeded = modes.filter((m) => m !== 'tcp' && m !== 'udp').length;
  return peerLines.filter((l) => l.startsWith('raw') || l.startsWith('???')).length >= rawNeeded;
}
