// The benchmark's network: the test lab (test/support/netns-lab.ts) with a target, an
// attacker and a client, plus routes so the attacker can use many fresh source addresses:
// IPv4 from 198.18.0.0/15 (outside the lab's /24) and IPv6 from fd00:5e:1::/64, both
// routed by the target through the attacker, so replies reach it and the target never
// has to resolve them on the wire (10,000 spoofed sources would overflow its neighbour table).

import { fileURLToPath } from 'node:url';
import { createLab, type Lab, type LabHost } from '../test/support/netns-lab.js';
import { runArgv, sleep } from './processes.js';

export type BenchHostName = 'target' | 'attacker' | 'client';

export const SERVICE_PORT = 8080;
/** Where the benchmark's own scripts are after compilation (dist/bench). */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

export class BenchLab {
  private nextFresh = 0;
  private constructor(readonly lab: Lab<BenchHostName>) {}

  get target(): LabHost {
    return this.lab.hosts.target;
  }
  get attacker(): LabHost {
    return this.lab.hosts.attacker;
  }
  get client(): LabHost {
    return this.lab.hosts.client;
  }

  static async create(): Promise<BenchLab> {
    const lab = await createLab<BenchHostName>(['target', 'attacker', 'client']);
    const bench = new BenchLab(lab);
    try {
      await lab.exec(bench.target, ['ip', 'route', 'add', '198.18.0.0/15', 'via', bench.attacker.v4]);
      await lab.exec(bench.target, ['ip', '-6', 'route', 'add', 'fd00:5e:1::/64', 'via', bench.attacker.v6]);
      // Replies to spoofed sources arrive at the attacker, which has no such address: drop quietly.
      await lab.exec(bench.attacker, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
      // A blackholed attacker never finishes closing its tripwire connections, which leaves
      // orphaned FIN-WAIT sockets on the tripwire port; those keep the next detector from
      // binding it (EADDRINUSE, SO_REUSEADDR or not). Let them go within a second or two, and
      // keep no TIME-WAIT sockets, which stop the peer (no SO_REUSEADDR) from binding for 60 s.
      await lab.exec(bench.target, ['sysctl', '-qw', 'net.ipv4.tcp_fin_timeout=1', 'net.ipv4.tcp_orphan_retries=1', 'net.ipv4.tcp_max_tw_buckets=0']);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return bench;
  }

  /**
   * Adds `count` unused IPv4 (198.18.8.0 upward) and IPv6 (fd00:5e:1::/64) addresses to the
   * attacker and returns them: one fresh identity per repetition, never seen by a detector.
   */
  async freshSources(count: number): Promise<{ v4: string; v6: string }[]> {
    const sources: { v4: string; v6: string }[] = [];
    const commands: string[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.nextFresh++;
      if (n >= 120 * 254) throw new Error('out of fresh attacker addresses');
      const v4 = `198.18.${8 + Math.floor(n / 254)}.${1 + (n % 254)}`;
      const v6 = `fd00:5e:1::${(n + 1).toString(16)}`;
      sources.push({ v4, v6 });
      commands.push(`address add ${v4}/32 dev eth0`, `address add ${v6}/128 dev eth0 nodad`);
    }
    await runArgv(['ip', '-n', this.attacker.netns, '-batch', '-'], { input: `${commands.join('\n')}\n` });
    return sources;
  }

  /** Starts the open service the figures connect to (a Node TCP server that accepts and closes). */
  async startService(host: LabHost = this.target): Promise<() => void> {
    const child = this.lab.spawn(host, [process.execPath, benchScript('service'), String(SERVICE_PORT)], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`service exited (${String(code)})`)));
      child.stdout?.once('data', () => resolve());
    });
    await sleep(20);
    return () => child.kill();
  }

  /** Runs one of the bench's Node scripts inside a host's namespace and parses its JSON answer. */
  async nodeScript<T>(host: LabHost, script: string, args: readonly string[], timeoutMs = 120_000): Promise<T> {
    const result = await this.lab.exec(host, [process.execPath, benchScript(script), ...args], { timeoutMs });
    const last = result.stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as T;
  }

  /** Waits (up to timeoutMs) until no connection, only listeners, remains on the target's TCP ports; else returns what is left. */
  async settleConnections(ports: readonly number[], timeoutMs = 15_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { stdout } = await this.lab.exec(this.target, ['ss', '-Htan'], { allowFailure: true });
      const busy = stdout.split('\n').filter((line) => {
        const [state, , , local] = line.trim().split(/\s+/);
        return state !== undefined && state !== 'LISTEN' && local !== undefined && ports.includes(Number(local.slice(local.lastIndexOf(':') + 1)));
      });
      if (busy.length === 0) return null;
      if (Date.now() > deadline) return busy.slice(0, 5).join('; ');
      await sleep(200);
    }
  }

  destroy(): Promise<void> {
    return this.lab.destroy();
  }
}
