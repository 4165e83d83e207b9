// A clean Debian 12 (bookworm) minbase tree to install packages into, made once with
// debootstrap and cached under /var/cache/portsentry-test-root; each test run works on a
// copy, so the cache stays pristine. The tree already has the server package's
// dependencies (nftables, tcpdump), installed with the tree's own apt, so installing our
// .deb with dpkg -i checks exactly what a user's `apt install ./x.deb` would.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOTFS_CACHE = '/var/cache/portsentry-test-root';
const CACHED_TREE = join(ROOTFS_CACHE, 'bookworm-minbase');
/** Bump when the tree's recipe changes, so an old cache is rebuilt rather than trusted. */
const RECIPE = 'bookworm minbase + nftables tcpdump iproute2 passwd, v1';
const READY_MARKER = '.portsentry-test-root-ready';
const SUITE = 'bookworm';

export function cachedRootfsReady(): boolean {
  try {
    return readFileSync(join(CACHED_TREE, READY_MARKER), 'utf8').trim() === RECIPE;
  } catch {
    return false;
  }
}

/** The Debian mirror apt on this machine uses (deb822 .sources or sources.list). */
export function configuredDebianMirror(): string {
  const texts: string[] = [];
  for (const file of ['/etc/apt/sources.list']) if (existsSync(file)) texts.push(readFileSync(file, 'utf8'));
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.sources') || n.endsWith('.list'))) texts.push(readFileSync(join(dir, name), 'utf8'));
  }
  for (const text of texts) {
    // deb822: a stanza with our suite and a URI that is the main archive (not -security).
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri !== undefined && suites.includes(SUITE) && !uri.includes('security')) return uri;
    }
    const line = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${SUITE}\\s`, 'm').exec(text);
    if (line?.[1] !== undefined && !line[1].includes('security')) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

async function ensureDebootstrap(): Promise<void> {
  try {
    await run('debootstrap', ['--version']);
  } catch {
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'debootstrap'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 });
  }
}

async function debootstrap(dir: string, mirror: string): Promise<void> {
  await run('umount', ['-l', join(dir, 'proc')]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  try {
    await run('debootstrap', ['--variant=minbase', SUITE, dir, mirror], { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    const logTail = await readFile(join(dir, 'debootstrap/debootstrap.log'), 'utf8').then(
      (t) => t.split('\n').slice(-15).join('\n'),
      () => '(no debootstrap.log)',
    );
    const stdoutTail = String(failure.stdout ?? '')
      .split('\n')
      .slice(-5)
      .join('\n');
    throw new Error(`debootstrap ${SUITE} from ${mirror} failed:\n${stdoutTail}\n${String(failure.stderr ?? '')}\n${logTail}`, { cause: error });
  } finally {
    await run('umount', ['-l', join(dir, 'proc')]).catch(() => undefined);
  }
}

/** Builds the cached tree if it is missing; returns how long that took (0 when cached). */
export async function ensureCachedRootfs(log: (line: string) => void): Promise<number> {
  if (cachedRootfsReady()) return 0;
  const started = Date.now();
  await ensureDebootstrap();
  const partial = `${CACHED_TREE}.partial`;
  const mirror = configuredDebianMirror();
  log(`debootstrap ${SUITE} from ${mirror} into ${partial} (once; cached afterwards)`);
  await debootstrap(partial, mirror).catch(async (error: unknown) => {
    // One retry: a mirror hiccup should not fail a test run; a second failure is real.
    log(`debootstrap failed (${(error as Error).message.split('\n')[0]}); retrying once`);
    await debootstrap(partial, mirror);
  });
  // Packages must not start services inside the tree.
  await writeFile(join(partial, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  await run('chroot', [partial, 'apt-get', 'update', '-qq'], { env, timeout: 300_000 });
  await run('chroot', [partial, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'nftables', 'tcpdump', 'iproute2', 'passwd'], { env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  await run('chroot', [partial, 'apt-get', 'clean'], { env });
  await writeFile(join(partial, READY_MARKER), `${RECIPE}\n`);
  await rm(CACHED_TREE, { recursive: true, force: true });
  await rename(partial, CACHED_TREE);
  return Date.now() - started;
}

export interface Rootfs {
  readonly dir: string;
  /** Runs argv inside the tree (chroot), with a clean environment plus `env`. */
  chroot(argv: readonly string[], env?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
  destroy(): Promise<void>;
}

/** A throwaway copy of the cached tree with /proc mounted (Node needs it). */
export async function copyOfCachedRootfs(): Promise<Rootfs> {
  const parent = await mkdtemp(join(tmpdir(), 'portsentry-rootfs-'));
  const dir = join(parent, 'root');
  await run('cp', ['-a', '--reflink=auto', CACHED_TREE, dir], { timeout: 300_000 });
  await run('mount', ['-t', 'proc', 'proc', join(dir, 'proc')]);
  let mounted = true;
  return {
    dir,
    chroot: async (argv, env = {}) => {
      const { stdout, stderr } = await run('chroot', [dir, ...argv], {
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...env },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      return { stdout: String(stdout), stderr: String(stderr) };
    },
    destroy: async () => {
      if (mounted) await run('umount', ['-l', join(dir, 'proc')]).catch(() => undefined);
      mounted = false;
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/** The minbase tree plus systemd as its init, for booting with systemd-nspawn --boot. */
const BOOTABLE_TREE = join(ROOTFS_CACHE, 'bookworm-systemd');
const BOOTABLE_RECIPE = `${RECIPE} + systemd systemd-sysv dbus, v1`;

export function cachedBootableRootfsReady(): boolean {
  try {
    return readFileSync(join(BOOTABLE_TREE, READY_MARKER), 'utf8').trim() === BOOTABLE_RECIPE;
  } catch {
    return false;
  }
}

/**
 * Builds (once) a copy of the minbase tree with systemd installed by its own apt, and
 * without the policy-rc.d that forbids starting services: in a booted container, packages
 * must start their services exactly as on a real machine.
 */
export async function ensureCachedBootableRootfs(log: (line: string) => void): Promise<void> {
  if (cachedBootableRootfsReady()) return;
  await ensureCachedRootfs(log);
  const partial = `${BOOTABLE_TREE}.partial`;
  await run('umount', ['-l', join(partial, 'proc')]).catch(() => undefined);
  await rm(partial, { recursive: true, force: true });
  log(`adding systemd to a copy of the cached tree in ${partial} (once)`);
  await run('cp', ['-a', '--reflink=auto', CACHED_TREE, partial], { timeout: 300_000 });
  const env = { DEBIAN_FRONTEND: 'noninteractive', PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
  await run('mount', ['-t', 'proc', 'proc', join(partial, 'proc')]);
  try {
    await run('chroot', [partial, 'apt-get', 'update', '-qq'], { env, timeout: 300_000 });
    await run('chroot', [partial, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'systemd', 'systemd-sysv', 'dbus'], { env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    await run('chroot', [partial, 'apt-get', 'clean'], { env });
  } finally {
    await run('umount', ['-l', join(partial, 'proc')]).catch(() => undefined);
  }
  await rm(join(partial, 'usr/sbin/policy-rc.d'), { force: true });
  await writeFile(join(partial, READY_MARKER), `${BOOTABLE_RECIPE}\n`);
  await rm(BOOTABLE_TREE, { recursive: true, force: true });
  await rename(partial, BOOTABLE_TREE);
}

/** A throwaway copy of the bootable tree (nothing mounted: systemd-nspawn mounts what it needs). */
export async function copyOfBootableRootfs(): Promise<{ readonly dir: string; destroy(): Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'portsentry-boot-'));
  const dir = join(parent, 'root');
  await run('cp', ['-a', '--reflink=auto', BOOTABLE_TREE, dir], { timeout: 300_000 });
  return { dir, destroy: () => rm(parent, { recursive: true, force: true }) };
}
