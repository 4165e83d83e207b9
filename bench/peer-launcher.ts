// Runs Debian's portsentry 1.2 with our config although its config path is compiled in:
// started by `unshare --mount --propagation private`, this bind-mounts the given file over
// /etc/portsentry/portsentry.conf (visible in this mount namespace only), then starts one
// portsentry per mode (the original runs one mode per process). Each daemonizes itself, so
// its parent exits at once; the daemons stay in this namespace after we exit.
// Usage: node peer-launcher.js CONFIG MODE... ; prints {"launchedAt": <epoch ms>} per mode.

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PEER = '/usr/sbin/portsentry';
const COMPILED_CONFIG = '/etc/portsentry/portsentry.conf';

async function main(): Promise<void> {
  const [config, ...modes] = process.argv.slice(2);
  if (config === undefined || modes.length === 0) throw new Error('usage: peer-launcher CONFIG MODE...');
  await run('mount', ['--bind', config, COMPILED_CONFIG]);
  for (const mode of modes) {
    const child = spawn(PEER, [`-${mode}`], { stdio: 'inherit' });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`portsentry -${mode} exited ${String(code)}`);
  }
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`peer-launcher: ${(error as Error).message}\n`);
  process.exit(1);
});
