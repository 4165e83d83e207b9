// Runs a command with some of the machine's directories replaced, for it alone: a test that
// must run a program on its compiled-in or shipped paths (/etc/portsentry, /var/lib, /run)
// without touching the machine's own files. Started by `ip netns exec`, which already gave it
// a mount namespace of its own whose mounts do not propagate back; made private here too, so
// nothing mounted below leaks out whatever started it.
// usage: node private-mounts.js [--bind SOURCE TARGET | --tmpfs TARGET | --small-tmpfs BYTES TARGET]... -- COMMAND ARG...
// (--small-tmpfs: a file system that fills up, for a disk-full test.)
// The command's exit status is this program's; SIGTERM, SIGINT and SIGHUP are passed on.

import { execFileSync, spawn } from 'node:child_process';

function main(argv: readonly string[]): void {
  const end = argv.indexOf('--');
  if (end < 0 || end === argv.length - 1) throw new Error('usage: private-mounts [--bind SOURCE TARGET | --tmpfs TARGET | --small-tmpfs BYTES TARGET]... -- COMMAND ARG...');
  execFileSync('mount', ['--make-rprivate', '/']);
  for (let i = 0; i < end;) {
    const option = argv[i];
    if (option === '--bind' && i + 2 < end) {
      execFileSync('mount', ['--bind', argv[i + 1]!, argv[i + 2]!]);
      i += 3;
    } else if (option === '--small-tmpfs' && i + 2 < end && /^\d+$/.test(argv[i + 1]!)) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `mode=0755,size=${argv[i + 1]!}`, 'tmpfs', argv[i + 2]!]);
      i += 3;
    } else if (option === '--tmpfs' && i + 1 < end) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', argv[i + 1]!]);
      i += 2;
    } else {
      throw new Error(`private-mounts: unexpected ${String(option)}`);
    }
  }
  const [command, ...args] = argv.slice(end + 1);
  const child = spawn(command!, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}

main(process.argv.slice(2));
