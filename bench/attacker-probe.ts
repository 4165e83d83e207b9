// Runs inside a lab host's namespace (the client, for figure 5): N sequential TCP connects to
// the target's open service, each one's time in ms from this process's performance.now().
// Usage: node attacker-probe.js latency '{"target":..,"servicePort":..,"source":..,"count":N}'

import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

type Outcome = 'answered' | 'unanswered';

function attempt(host: string, port: number, localAddress: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host, port, localAddress });
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('unanswered'), timeoutMs);
    socket.once('connect', () => done('answered'));
    // A refusal is an answer too: the path is open.
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'answered' : 'unanswered'));
  });
}

export async function runLatency(request: { target: string; servicePort: number; source: string; count: number }): Promise<{ latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  for (let i = 0; i < request.count; i++) {
    const began = performance.now();
    const outcome = await attempt(request.target, request.servicePort, request.source, 1000);
    if (outcome === 'answered') latenciesMs.push(performance.now() - began);
  }
  return { latenciesMs };
}

async function main(): Promise<void> {
  const [command, json] = process.argv.slice(2);
  if (command !== 'latency') throw new Error(`unknown command ${String(command)}`);
  const result = await runLatency(JSON.parse(json ?? '{}') as never);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith('attacker-probe.js') === true) {
  main().catch((error: unknown) => {
    process.stderr.write(`attacker-probe: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
