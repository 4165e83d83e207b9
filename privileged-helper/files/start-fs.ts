// The file-system calls the helper's start path makes before its tripwires are bound (stat,
// lstat, realpath, readFile), as promises over node:fs's callback API, with node:fs fetched by
// process.getBuiltinModule. Importing node:fs or node:fs/promises as an ES module builds a
// facade that loads all of fs/promises (streams, readline: 6 to 9 ms of CPU, measured) on the
// way to the first bound tripwire; this way nothing beyond node:fs itself, already loaded.
// Errors are the same ErrnoException values (code ENOENT, ...) fs/promises gives.

import type { Stats } from 'node:fs';

const fs = process.getBuiltinModule('node:fs');

function settle<T>(resolve: (value: T) => void, reject: (error: NodeJS.ErrnoException) => void) {
  return (error: NodeJS.ErrnoException | null, value: T) => (error === null ? resolve(value) : reject(error));
}

export const fsConstants = fs.constants;

export function stat(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => fs.stat(path, settle(resolve, reject)));
}

export function lstat(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => fs.lstat(path, settle(resolve, reject)));
}

export function realpath(path: string): Promise<string> {
  return new Promise((resolve, reject) => fs.realpath(path, settle(resolve, reject)));
}

export function readFile(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => fs.readFile(path, settle(resolve, reject)));
}
