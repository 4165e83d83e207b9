// Runs Debian's portsentry 1.2 with our config although its config path is compiled in:
// started by `unshare --mount --propagation private`, this bind-mounts the given file over
// /etc/portsentry/portsentry.conf (visible in this mount namespace only), then starts one
// portsentry per mode (the original runs one mode per process), all at once, as ours starts
// its modes in one process. Each daemonizes itself, so its parent exits at once; the daemons
// stay in this namespace after we exit. The moment just before the first exec is printed,
// so the start-up figure clocks the peer from its own exec, as ours is, and states what
// this launcher (unshare, Node, the bind mount) cost on top.
// Usage: node peer-launcher.js CONFIG MODE... ; prints {"execAt": <epoch ms, sub-ms>}.

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PEER = '/usr/sbin/portsentry';
const COMPILED_CONFIG = '/etc/portsentry/portsentry.conf';

async function main(): Promise<void> {
  const [config, ...modes] = process.argv.slice(2);
  if (config === undefined || modes.length === 0) throw new Error('usage: peer-launcher CONFIG MODE...');
  await run('mount', ['--bind', config, COMPILED_CONFIG]);
  const execAt = performance.timeOrigin + performance.now();
  const exits = modes.map((mode) => {
    const child = spawn(PEER, [`-${mode}`], { stdio: 'inherit' });
    return new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`portsentry -${mode} exited ${String(code)}`)))));
  });
  await Promise.all(exits);
  process.stdout.write(`${JSON.stringify({ execAt })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`peer-launcher: ${(error as Error).message}\n`);
  process.exit(1);
});
