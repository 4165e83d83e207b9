// How the helper (root) touches the file system without being steered by anyone else: every
// file it writes or trusts must sit in a directory that only root can change (all the way up;
// a sticky /tmp is fine as an ancestor, never as the directory itself), files are opened
// without following symlinks, and a directory is only created, chowned or chmodded by us if
// we made it. A path that fails these rules is refused with a sentence, never "fixed".

import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Stats } from 'node:fs';
import { fsConstants as constants, lstat, realpath, stat } from './start-fs.js';

/**
 * node:fs/promises for the writes, fetched on first use: the checks the start path makes
 * (before the tripwires are bound) need none of it (see start-fs.ts).
 */
const fsp = () => process.getBuiltinModule('node:fs/promises');

/** A path the helper refuses to use; the message names the path and the reason. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

const WINDOWS = process.platform === 'win32';
/** O_NOFOLLOW is POSIX; Windows has no such flag (and no symlink games by ordinary users). */
const NOFOLLOW = WINDOWS ? 0 : constants.O_NOFOLLOW;
const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

function myUid(): number {
  return process.geteuid?.() ?? 0;
}

/** Owned by root, or by the helper itself (a helper run as a test user owns its temp dirs). */
function trustedOwner(info: Stats): boolean {
  return info.uid === 0 || info.uid === myUid();
}

function modeText(info: Stats): string {
  return (info.mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Checks that `dir` is a real directory that only root (or we) can change, and that every
 * directory above it is too (a sticky, world-writable ancestor such as /tmp is allowed: no one
 * can rename another user's entry out of it). Symlinks in the path are resolved first and the
 * real path is what is checked.
 */
export async function assertSafeDirectory(dir: string): Promise<void> {
  if (WINDOWS) return;
  const direct = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    throw new UnsafePathError(`${dir}: ${error.code === 'ENOENT' ? 'no such directory' : error.message}`);
  });
  if (direct.isSymbolicLink()) throw new UnsafePathError(`${dir} is a symbolic link; refusing to use it (name the real directory)`);
  if (!direct.isDirectory()) throw new UnsafePathError(`${dir} is not a directory`);
  await assertSymlinksSteady(dir);
  const real = await realpath(dir);
  let current = real;
  let own = true;
  for (;;) {
    const info = await lstat(current);
    if (!trustedOwner(info)) throw new UnsafePathError(`${current} belongs to uid ${info.uid}, not root; refusing to use ${dir}`);
    const writableByOthers = (info.mode & GROUP_OR_OTHER_WRITE) !== 0;
    if (writableByOthers && (own || (info.mode & STICKY) === 0)) {
      throw new UnsafePathError(`${current} can be written by users other than root (mode ${modeText(info)}); refusing to use ${dir}`);
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
    own = false;
  }
}

/**
 * The real path is what assertSafeDirectory checks, but files are opened by the path as
 * written: a symlink on the way must be one that nobody but root can re-point afterwards, so
 * it must belong to root and sit in a directory others cannot write (sticky: they cannot
 * replace root's entry). A user's own link in /tmp, aimed at a root-only directory while the
 * check runs and elsewhere when root writes, is refused.
 */
async function assertSymlinksSteady(dir: string): Promise<void> {
  const parts = resolve(dir)
    .split(sep)
    .filter((part) => part !== '');
  let parent: string = sep;
  for (const part of parts) {
    const current = join(parent, part);
    const info = await lstat(current);
    if (info.isSymbolicLink()) {
      const holder = await stat(parent);
      if (!trustedOwner(info)) throw new UnsafePathError(`${current} is a symbolic link of uid ${info.uid}, not root; refusing to use ${dir}`);
      if ((holder.mode & GROUP_OR_OTHER_WRITE) !== 0 && (holder.mode & STICKY) === 0) {
        throw new UnsafePathError(`${current} is a symbolic link in ${parent}, which users other than root can write (mode ${modeText(holder)}); refusing to use ${dir}`);
      }
    }
    parent = current;
  }
}

/**
 * Checks a file root will trust (read as config, or write): its directory is safe, and the
 * file itself, if it exists, is a regular file (not a symlink) owned by root and not writable
 * by others. A missing file passes (null).
 */
export async function assertSafeFile(path: string, what: string): Promise<Stats | null> {
  if (WINDOWS) return null;
  await assertSafeDirectory(dirname(path));
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (info.isSymbolicLink()) throw new UnsafePathError(`${what} ${path} is a symbolic link; refusing to follow it`);
  if (!info.isFile()) throw new UnsafePathError(`${what} ${path} is not a regular file`);
  if (!trustedOwner(info)) throw new UnsafePathError(`${what} ${path} belongs to uid ${info.uid}, not root`);
  if ((info.mode & GROUP_OR_OTHER_WRITE) !== 0) throw new UnsafePathError(`${what} ${path} can be written by users other than root (mode ${modeText(info)})`);
  return info;
}

/** Opens a state file for appending (created with `mode`), never through a symlink. */
export async function openForAppend(path: string, mode: number, what: string): Promise<FileHandle> {
  await assertSafeFile(path, what);
  const handle = await fsp().open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, mode);
  return checkedHandle(handle, path, what);
}

/** Opens an existing file for reading and rewriting in place (hosts.deny), never through a symlink. */
export async function openForUpdate(path: string, what: string): Promise<FileHandle> {
  await assertSafeFile(path, what);
  const handle = await fsp().open(path, constants.O_RDWR | NOFOLLOW);
  return checkedHandle(handle, path, what);
}

async function checkedHandle(handle: FileHandle, path: string, what: string): Promise<FileHandle> {
  const info = await handle.stat();
  if (!info.isFile() || info.nlink > 1) {
    await handle.close();
    throw new UnsafePathError(`${what} ${path} is not a plain regular file`);
  }
  return handle;
}

/** Appends text to a state file; see openForAppend. */
export async function appendToFile(path: string, text: string, mode: number, what: string): Promise<void> {
  const handle = await openForAppend(path, mode, what);
  try {
    await handle.write(text);
  } finally {
    await handle.close();
  }
}

/** Empties (or creates) a state file with `mode` (also when it existed with another), never through a symlink. */
export async function truncateFile(path: string, mode: number, what: string): Promise<void> {
  await assertSafeFile(path, what);
  const handle = await checkedHandle(await fsp().open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW, mode), path, what);
  try {
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/**
 * Writes a whole file atomically: a new temporary file (O_EXCL, no symlink) beside the
 * target, flushed, then renamed over it. The target keeps its mode if it exists; a new one
 * gets `mode`.
 */
export async function writeFileAtomically(path: string, text: string, mode: number, what: string): Promise<void> {
  const existing = await assertSafeFile(path, what);
  const temporary = join(dirname(path), `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await fsp().open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, existing === null ? mode : existing.mode & 0o777);
  try {
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
    await fsp().rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fsp()
      .unlink(temporary)
      .catch(() => undefined);
    throw error;
  }
}

/**
 * Makes sure a directory of ours exists: created (mode, owner root:group) when missing, and
 * only then chowned and chmodded; an existing one is used as it is if only root can change it
 * and refused otherwise. Never re-modes a directory someone else made. Returns whether we
 * created it.
 */
export async function ensureOwnDirectory(dir: string, mode: number, groupId: number | null): Promise<boolean> {
  const absolute = resolve(dir);
  if (WINDOWS) {
    await fsp().mkdir(absolute, { recursive: true });
    return false;
  }
  let created = false;
  try {
    await fsp().mkdir(absolute, { mode: 0o700 });
    created = true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && dirname(absolute) !== absolute) {
      // A missing parent (e.g. /run/portsentry-desktop for the admin socket's directory when
      // the operator socket is off) is ours too: root-owned, 0755.
      await ensureOwnDirectory(dirname(absolute), 0o755, null);
      return ensureOwnDirectory(absolute, mode, groupId);
    }
    if (code !== 'EEXIST') throw error;
  }
  if (created) {
    // Made by us just now, as 0700 (nobody else can have entered it): now give it its final
    // owner and mode. lstat again so a race cannot make us chown something else.
    const info = await lstat(absolute);
    if (!info.isDirectory() || info.uid !== myUid()) throw new UnsafePathError(`${absolute} changed under us while being created`);
    await fsp().chown(absolute, myUid(), groupId ?? info.gid);
    await fsp().chmod(absolute, mode);
  }
  await assertSafeDirectory(absolute);
  return created;
}

/** Whether members of `groupId` (or everyone) can pass through `dir` to reach a socket in it. */
export async function groupCanEnter(dir: string, groupId: number): Promise<boolean> {
  if (WINDOWS) return true;
  const info = await lstat(dir);
  return (info.mode & 0o001) !== 0 || (info.gid === groupId && (info.mode & 0o010) !== 0);
}
