// A Debian tree booted with its own systemd as PID 1 (systemd-nspawn --boot), inside a
// network namespace the test created, and commands run in it with nsenter. This host's PID 1
// is not systemd, so nspawn can neither register with machined nor make a scope unit:
// --register=no --keep-unit run it without either (machinectl cannot see it; nsenter can).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { untilValue } from '../support/wait.js';

const run = promisify(execFile);

export interface BootedContainer {
  /** PID (in this host's view) of the container's systemd. */
  readonly leader: number;
  /** Everything nspawn and the container's console printed so far. */
  output(): string;
  /** Runs argv inside the container (all its namespaces, its root); rejects on non-zero exit unless allowFailure. */
  exec(argv: readonly string[], options?: { allowFailure?: boolean; env?: Record<string, string>; timeoutMs?: number }): Promise<{ stdout: string; stderr: string; code: number }>;
  /** Halts the container (SIGTERM to nspawn = orderly shutdown), then kills it if it hangs. */
  stop(): Promise<void>;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export async function bootContainer(dir: string, options: { name: string; netnsPath: string; timeoutMs?: number }): Promise<BootedContainer> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const argv = [
    '-D',
    dir,
    '--boot',
    '--register=no',
    '--keep-unit',
    `--machine=${options.name}`,
    `--network-namespace-path=${options.netnsPath}`,
    // nspawn's default set lacks these; the unit's own CapabilityBoundingSet narrows them again.
    '--capability=CAP_NET_ADMIN,CAP_NET_RAW',
    '--console=pipe',
  ];
  const child: ChildProcess = spawn('systemd-nspawn', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  let exited = false;
  child.once('exit', (code, signal) => {
    exited = true;
    text += `\n[systemd-nspawn exited: ${code ?? signal}]\n`;
  });
  const output = () => text;
  const containerOutput = () => `container output:\n${text.slice(-4000)}`;
  const nspawnPid = child.pid ?? 0;

  const findLeader = (): number | undefined => {
    if (exited) throw new Error(`systemd-nspawn exited before the container booted:\n${text.slice(-4000)}`);
    // nspawn's child (or grandchild, across its intermediate process) that runs systemd.
    const queue = childrenOf(nspawnPid);
    while (queue.length > 0) {
      const pid = queue.shift()!;
      if (comm(pid) === 'systemd') return pid;
      queue.push(...childrenOf(pid));
    }
    return undefined;
  };
  const leader = await untilValue('the container runs systemd', findLeader, timeoutMs, containerOutput);

  const exec: BootedContainer['exec'] = async (command, execOptions = {}) => {
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', ...(execOptions.env ?? {}) };
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    try {
      const { stdout, stderr } = await run('nsenter', ['-t', String(leader), '-m', '-u', '-i', '-n', '-p', '-r', '-w', '--', '/usr/bin/env', '-i', ...envArgs, ...command], {
        timeout: execOptions.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      return { stdout: String(stdout), stderr: String(stderr), code: 0 };
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string; code?: number | string };
      const result = { stdout: String(failure.stdout ?? ''), stderr: String(failure.stderr ?? ''), code: typeof failure.code === 'number' ? failure.code : -1 };
      if (execOptions.allowFailure === true) return result;
      throw new Error(`in the container: ${command.join(' ')} failed (${failure.code}): ${result.stderr || result.stdout}`, { cause: error });
    }
  };

  // "running", or "degraded" when some unit irrelevant here (a getty on the pipe console) failed.
  await untilValue(
    "the container's systemd finished booting",
    async () => {
      const state = (await exec(['systemctl', 'is-system-running'], { allowFailure: true })).stdout.trim();
      return state === 'running' || state === 'degraded' ? state : undefined;
    },
    timeoutMs,
    containerOutput,
  );

  return {
    leader,
    output,
    exec,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
