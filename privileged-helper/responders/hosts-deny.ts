// KILL_HOSTS_DENY: lines appended to /etc/hosts.deny (or HOSTS_DENY_FILE). The file is the
// admin's, so we only ever append whole lines, never duplicate one, and never interleave
// two writers: every change to one file goes through one queue.

import { readFile } from 'node:fs/promises';
import { openForAppend, openForUpdate } from '../files/safe-paths.js';

const queues = new Map<string, Promise<unknown>>();

/** Runs changes to one file one after another, even when callers do not wait. */
function serialized<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const next = previous.then(work, work);
  const tail = next.catch(() => undefined);
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return next;
}

function assertOneLine(line: string): void {
  if (line.length === 0 || /[\r\n\0]/.test(line)) throw new Error('a hosts.deny entry must be one non-empty line');
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Appends the line unless the file already holds it. Returns true when it was added. */
export function appendHostsDenyLine(file: string, line: string): Promise<boolean> {
  assertOneLine(line);
  return serialized(file, async () => {
    const lines = await readLines(file);
    if (lines.some((existing) => existing.trim() === line.trim())) return false;
    const content = await readFile(file, 'utf8').catch(() => '');
    const separator = content.length > 0 && !content.endsWith('\n') ? '\n' : '';
    // O_APPEND: a concurrent writer outside this process (an admin's editor) cannot be overwritten.
    const handle = await openForAppend(file, 0o644, 'hosts.deny file');
    try {
      await handle.write(`${separator}${line}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  });
}

/**
 * Removes every line equal to `line` (unblock). Rewritten in place, not through a temporary
 * file and a rename: under the systemd unit only the file itself is writable, not /etc.
 */
export function removeHostsDenyLine(file: string, line: string): Promise<boolean> {
  assertOneLine(line);
  return serialized(file, async () => {
    const lines = await readLines(file);
    const kept = lines.filter((existing) => existing.trim() !== line.trim());
    if (kept.length === lines.length) return false;
    const handle = await openForUpdate(file, 'hosts.deny file');
    try {
      const text = Buffer.from(kept.join('\n'));
      await handle.write(text, 0, text.length, 0);
      await handle.truncate(text.length);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  });
}
