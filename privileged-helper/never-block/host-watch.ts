// Tells the daemon when what it protects by nature may have changed (this host's addresses,
// its routes and so its gateways, its resolvers), as it happens, instead of re-reading every
// few seconds: an idle helper should cost nothing. On Linux the kernel pushes address and route
// changes over netlink (`ip -o monitor address route`, one line per change), and the resolver
// files are watched with inotify (fs.watch on their directories: resolv.conf is usually
// replaced, not written in place, so the file itself cannot be watched). Changes come in bursts
// (DHCP renews an address, a route and resolv.conf together), so they are folded into one
// call. Where `ip` cannot run (another OS, iproute2 missing), it falls back to reading again on
// a timer, as before. A slow backstop re-read covers what neither source reports.

import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** Changes within this long of the first are one change. */
export const HOST_CHANGE_SETTLE_MS = 200;
/** Without netlink: read again this often (what the daemon did before). */
export const HOST_POLL_FALLBACK_MS = 10_000;
/** With netlink: the backstop. */
export const HOST_BACKSTOP_MS = 300_000;
const RESTART_DELAY_MS = 1_000;

export interface HostWatchHandle {
  stop(): void;
}

export interface HostWatchOptions {
  /** Files whose change may change the protected addresses (the resolv.conf files). */
  readonly files: readonly string[];
  readonly onChange: () => void;
  /** The netlink monitor's argv; default `ip -o monitor address route`. */
  readonly monitor?: readonly [string, ...string[]];
  /** Re-read periods; default HOST_POLL_FALLBACK_MS and HOST_BACKSTOP_MS (tests set them apart). */
  readonly pollFallbackMs?: number;
  readonly backstopMs?: number;
}

export function watchHostChanges(options: HostWatchOptions): HostWatchHandle {
  let stopped = false;
  let settle: NodeJS.Timeout | null = null;
  let restart: NodeJS.Timeout | null = null;
  let child: ChildProcess | null = null;
  let periodic: NodeJS.Timeout | null = null;
  const changed = () => {
    if (stopped || settle !== null) return;
    settle = setTimeout(() => {
      settle = null;
      options.onChange();
    }, HOST_CHANGE_SETTLE_MS);
    settle.unref();
  };
  const every = (ms: number) => {
    if (periodic !== null) clearInterval(periodic);
    periodic = setInterval(changed, ms);
    periodic.unref();
  };

  const [program, ...args] = options.monitor ?? ['ip', '-o', 'monitor', 'address', 'route'];
  const startMonitor = () => {
    if (stopped) return;
    const current = spawn(program, args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    child = current;
    let heard = false;
    createInterface({ input: current.stdout! }).on('line', () => {
      heard = true;
      changed();
    });
    current.once('spawn', () => every(options.backstopMs ?? HOST_BACKSTOP_MS));
    const gone = () => {
      if (child !== current) return;
      child = null;
      if (stopped) return;
      // Polling again until the monitor is back, and a read now for what it may have missed.
      every(options.pollFallbackMs ?? HOST_POLL_FALLBACK_MS);
      changed();
      // A monitor that could not run at all (no `ip`) is not restarted in a loop: polling stays.
      if (!heard && current.pid === undefined) return;
      restart = setTimeout(startMonitor, RESTART_DELAY_MS);
      restart.unref();
    };
    current.once('error', gone);
    current.once('close', gone);
  };
  every(options.pollFallbackMs ?? HOST_POLL_FALLBACK_MS);
  startMonitor();

  const watchers: FSWatcher[] = [];
  const names = new Map<string, Set<string>>();
  for (const file of options.files) {
    const dir = dirname(file);
    const set = names.get(dir) ?? new Set<string>();
    set.add(basename(file));
    names.set(dir, set);
  }
  for (const [dir, files] of names) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || files.has(name.toString())) changed();
      });
      watcher.on('error', () => undefined); // the directory went away: the backstop remains
      watchers.push(watcher);
    } catch {
      // The directory does not exist (no systemd-resolved): nothing to watch there.
    }
  }

  return {
    stop: () => {
      stopped = true;
      for (const timer of [settle, restart]) if (timer !== null) clearTimeout(timer);
      if (periodic !== null) clearInterval(periodic);
      for (const watcher of watchers) watcher.close();
      const current = child;
      child = null;
      if (current !== null && current.exitCode === null && current.signalCode === null) current.kill('SIGTERM');
    },
  };
}
