// The store's file as root handles it: made safe before SQLite opens it by name, its header
// read without following a link, its identity (so a file replaced or deleted under a running
// helper is noticed), and a damaged store moved aside beside itself with its -wal and -shm,
// never deleted and never over another file. The rules are files/safe-paths.ts's.

import { constants, lstatSync, statSync } from 'node:fs';
import { lstat, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { assertSafeFile, ensureOwnDirectory, truncateFile } from '../files/safe-paths.js';
import { COMPANION_SUFFIXES, corruptName, HEADER_BYTES } from './store-health.js';

const NOFOLLOW = process.platform === 'win32' ? 0 : constants.O_NOFOLLOW;

/**
 * SQLite opens its file by name and follows symlinks, so the file is made safe first: its
 * directory only root can change, the file itself (if there) a regular file, and a new one
 * created 0600 without following a link (SQLite gives its journal files the same mode).
 */
export async function prepareStoreFile(file: string): Promise<void> {
  await ensureOwnDirectory(dirname(file), 0o750, null);
  if ((await assertSafeFile(file, 'event store')) === null) await truncateFile(file, 0o600, 'event store');
}

/** The first bytes of the store and its length, read without following a link. */
export async function readStoreHeader(file: string): Promise<{ header: Uint8Array; size: number }> {
  const handle = await open(file, constants.O_RDONLY | NOFOLLOW);
  try {
    const header = new Uint8Array(HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    return { header: header.subarray(0, bytesRead), size: (await handle.stat()).size };
  } finally {
    await handle.close();
  }
}

/** Which file a path names right now (device and inode), or null when nothing is there. */
export function fileIdentity(file: string): string | null {
  try {
    const info = statSync(file);
    return `${info.dev}:${info.ino}`;
  } catch {
    return null;
  }
}

/** Whether anything (a file, a link, a directory) has this name. */
function taken(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves a store that cannot be used aside, as `<file>.corrupt-<UTC time>` in the same
 * directory, with its -wal and -shm as `<that name>-wal` and `-shm`; returns the new name.
 * The file must pass the checks the store itself passes (a directory only root can change, a
 * regular file of root's): rename() moves a name, never what a link points to, and in such a
 * directory nobody else can take the new name between the check and the move.
 */
export async function moveStoreAside(file: string, now: number): Promise<string> {
  if ((await assertSafeFile(file, 'event store')) === null) throw new Error(`${file} does not exist`);
  let attempt = 0;
  let target = corruptName(file, now);
  while ([target, ...COMPANION_SUFFIXES.map((suffix) => target + suffix)].some(taken)) target = corruptName(file, now, ++attempt);
  // The companions first: a -wal left beside a new store could be replayed into it.
  for (const suffix of COMPANION_SUFFIXES) {
    const companion = await lstat(file + suffix).catch(() => null);
    if (companion !== null) await rename(file + suffix, target + suffix);
  }
  await rename(file, target);
  return target;
}
