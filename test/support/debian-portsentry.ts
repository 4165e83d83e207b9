// Debian's portsentry package as shipped, unpacked into a test's own directory: its
// portsentry.conf and portsentry.ignore come from the .deb, never from the machine's live
// /etc, which an admin may have edited. The .deb is the one apt keeps in its cache after
// scripts/install-system-deps.sh installed the package, or else fetched with apt-get download.

import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const APT_CACHE = '/var/cache/apt/archives';

export interface DebianPortsentry {
  /** The unpacked package root (its etc/, usr/, ...). */
  readonly root: string;
  /** etc/portsentry inside it: portsentry.conf and portsentry.ignore as the package ships them. */
  readonly etcDir: string;
  readonly conf: string;
}

async function findDeb(dir: string): Promise<string> {
  const cached = (await readdir(APT_CACHE).catch(() => [] as string[])).filter((name) => /^portsentry_.*\.deb$/.test(name)).sort();
  if (cached.length > 0) return join(APT_CACHE, cached[cached.length - 1]!);
  // A cache cleaned after install (Debian's container images do that): fetch the package again.
  await run('apt-get', ['download', 'portsentry'], { cwd: dir, timeout: 300_000 });
  const fetched = (await readdir(dir)).filter((name) => /^portsentry_.*\.deb$/.test(name));
  if (fetched.length === 0) throw new Error('apt-get download portsentry left no .deb');
  return join(dir, fetched[0]!);
}

/** Unpacks Debian's portsentry .deb under dir/debian-portsentry. */
export async function unpackDebianPortsentry(dir: string): Promise<DebianPortsentry> {
  const deb = await findDeb(dir);
  const root = join(dir, 'debian-portsentry');
  await run('dpkg-deb', ['-x', deb, root]);
  const etcDir = join(root, 'etc', 'portsentry');
  return { root, etcDir, conf: join(etcDir, 'portsentry.conf') };
}
