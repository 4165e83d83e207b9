// A throwaway network for end-to-end tests: a "switch" namespace holding a bridge, and one
// namespace per test host wired to it by a veth pair. Hosts get 198.18.0.x/24 and
// fd00:5e::x/64 (benchmark/test ranges only). Every namespace name carries this process's
// pid, so a crashed run never collides with the next, and destroy() (also run at exit)
// deletes everything the lab created.

import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LabHost {
  readonly name: string;
  readonly netns: string;
  readonly v4: string;
  readonly v6: string;
}

export interface Lab<Name extends string = string> {
  readonly hosts: Record<Name, LabHost>;
  /** Runs argv inside the host's namespace; resolves with stdout, rejects on non-zero exit. */
  exec(host: LabHost, argv: readonly string[], options?: { timeoutMs?: number; allowFailure?: boolean }): Promise<ExecResult>;
  spawn(host: LabHost, argv: readonly string[], options?: SpawnOptions): ChildProcess;
  destroy(): Promise<void>;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

let labCounter = 0;
const liveNamespaces = new Set<string>();
process.on('exit', () => {
  for (const ns of liveNamespaces) {
    try {
      // Synchronous on purpose: 'exit' handlers cannot wait.
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
});

/**
 * Kills whatever still runs in a namespace, then deletes it. A process left inside (a helper
 * killed with -9 leaves its tcpdump) would outlive it: with no traffic left, nothing ends it.
 */
export async function deleteNamespace(ns: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', ns]).then(
    (r) =>
      String(r.stdout)
        .split(/\s+/)
        .filter((p) => /^\d+$/.test(p)),
    () => [],
  );
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

export async function createLab<const Name extends string>(hostNames: readonly Name[]): Promise<Lab<Name>> {
  if (hostNames.length === 0 || hostNames.length > 200) throw new Error('a lab has 1 to 200 hosts');
  labCounter += 1;
  const prefix = `psl${process.pid}x${labCounter}`;
  const switchNs = `${prefix}sw`;
  const hosts = {} as Record<Name, LabHost>;
  const created: string[] = [];
  const lab: Lab<Name> = {
    hosts,
    exec: (host, argv, options = {}) => execIn(host.netns, argv, options),
    spawn: (host, argv, options = {}) => spawn('ip', ['netns', 'exec', host.netns, ...argv], options),
    destroy: async () => {
      for (const ns of created.reverse()) {
        await deleteNamespace(ns);
        liveNamespaces.delete(ns);
      }
      created.length = 0;
    },
  };
  try {
    await ip('netns', 'add', switchNs);
    created.push(switchNs);
    liveNamespaces.add(switchNs);
    await ip('-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', switchNs, 'link', 'set', 'br0', 'up');
    for (const [index, hostName] of hostNames.entries()) {
      const netns = `${prefix}h${index}`;
      await ip('netns', 'add', netns);
      created.push(netns);
      liveNamespaces.add(netns);
      const octet = 10 + index;
      const host: LabHost = { name: hostName, netns, v4: `198.18.0.${octet}`, v6: `fd00:5e::${octet.toString(16)}` };
      const port = `p${index}`;
      await ip('-n', netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', switchNs);
      await ip('-n', switchNs, 'link', 'set', port, 'master', 'br0', 'up');
      await ip('-n', netns, 'link', 'set', 'lo', 'up');
      await ip('-n', netns, 'addr', 'add', `${host.v4}/24`, 'dev', 'eth0');
      // nodad: the address is usable at once instead of after duplicate detection (~2 s).
      await ip('-n', netns, 'addr', 'add', `${host.v6}/64`, 'dev', 'eth0', 'nodad');
      await ip('-n', netns, 'link', 'set', 'eth0', 'up');
      hosts[hostName] = host;
    }
  } catch (error) {
    await lab.destroy();
    throw error;
  }
  return lab;
}

/** Runs argv inside a namespace; resolves with its output, rejects on non-zero exit unless allowFailure. */
export async function execIn(netns: string, argv: readonly string[], options: { timeoutMs?: number; allowFailure?: boolean }): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    const { stdout, stderr } = await run('ip', ['netns', 'exec', netns, ...argv], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { stdout: String(stdout), stderr: String(stderr), code: 0 };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; code?: number | string; killed?: boolean };
    // Killed at the bound: say so, or a timeout reads as a silent failure with code -1.
    const stderr = `${String(failure.stderr ?? '')}${failure.killed === true ? `[still running after ${timeoutMs} ms: killed]` : ''}`;
    const result = { stdout: String(failure.stdout ?? ''), stderr, code: typeof failure.code === 'number' ? failure.code : -1 };
    if (options.allowFailure === true) return result;
    throw new Error(`${argv.join(' ')} in ${netns} failed (${String(failure.code)}): ${result.stderr.trim().slice(0, 500)}`, { cause: error });
  }
}

/** Whether a TCP connect from `from` to address:port completes within timeoutSeconds. */
export async function tcpReachable(lab: Lab, from: LabHost, address: string, port: number, timeoutSeconds = 1): Promise<boolean> {
  const target = address.includes(':') ? `TCP6:[${address}]:${port}` : `TCP4:${address}:${port}`;
  const result = await lab.exec(from, ['socat', '-u', 'OPEN:/dev/null', `${target},connect-timeout=${timeoutSeconds}`], { allowFailure: true });
  return result.code === 0;
}
