// Adds and removes entries of an ignore file without disturbing the admin's comments, and
// keeps timed entries ("allow for 1 hour"): the end is written in the entry's own comment
// ("# allowed until 2026-01-01T00:00:00.000Z: ..."), so it survives a restart and a reader of
// the file sees it; the helper removes the line when the time is up. Pure.

import { parseIgnoreEntry } from './ignore-list.js';

function canonical(text: string): string | null {
  const entry = parseIgnoreEntry(text);
  if (typeof entry === 'string') return null;
  return entry.prefix === (entry.family === 4 ? 32 : 128) ? entry.address : `${entry.address}/${entry.prefix}`;
}

export interface IgnoreLine {
  readonly entry: string;
  readonly comment?: string;
  /** When a timed entry ends (epoch ms); absent for an entry that stays. */
  readonly until?: number;
}

/** The comment a timed entry starts with; the ISO time is the helper's, never a user's text. */
const TIMED = /^allowed until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z)(?::\s*(.*))?$/;

function timedComment(comment: string): { until: number; rest: string } | null {
  const match = TIMED.exec(comment);
  if (match === null) return null;
  const until = Date.parse(match[1]!);
  return Number.isFinite(until) ? { until, rest: (match[2] ?? '').trim() } : null;
}

/** Every entry with its trailing comment, in file order. Lines that do not parse are skipped. */
export function listIgnoreLines(text: string): IgnoreLine[] {
  const out: IgnoreLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const hash = raw.indexOf('#');
    const content = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (content === '') continue;
    const entry = canonical(content);
    if (entry === null) continue;
    const comment = hash >= 0 ? raw.slice(hash + 1).trim() : '';
    const timed = timedComment(comment);
    const text = timed === null ? comment : timed.rest;
    out.push({ entry, ...(text === '' ? {} : { comment: text }), ...(timed === null ? {} : { until: timed.until }) });
  }
  return out;
}

/**
 * How many entries an operator's additions may bring the list to. Every entry is checked on
 * every probe and handed to the kernel trap, and every addition rewrites the file and reloads,
 * so a list grown without end over the channel would slow detection for everyone. Root may
 * still edit the file directly (or add over the admin socket) past it.
 */
export const MAX_OPERATOR_IGNORE_ENTRIES = 4096;

/**
 * Appends the entry unless an equal one is present. `entry` must already be canonical.
 * `full` (nothing added) when the list already holds `maxEntries` entries.
 */
export function addIgnoreLine(text: string, entry: string, comment?: string, maxEntries = Infinity, until?: number): { text: string; added: boolean; full?: true } {
  const lines = listIgnoreLines(text);
  const present = lines.find((line) => line.entry === entry);
  // Already there for good: nothing to do. Already there for a while: the new time replaces the old.
  if (present !== undefined && (present.until === undefined || until === present.until)) return { text, added: false };
  if (present !== undefined) return { text: addIgnoreLine(removeIgnoreLine(text, entry).text, entry, comment, Infinity, until).text, added: true };
  if (lines.length >= maxEntries) return { text, added: false, full: true };
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  const words = [until === undefined ? '' : `allowed until ${new Date(until).toISOString()}`, comment ?? ''].filter((w) => w !== '').join(': ');
  const suffix = words === '' ? '' : `  # ${words}`;
  return { text: `${text}${separator}${entry}${suffix}\n`, added: true };
}

/** The timed entries whose time is up at `now`. */
export function expiredIgnoreEntries(text: string, now: number): string[] {
  return listIgnoreLines(text)
    .filter((line) => line.until !== undefined && line.until <= now)
    .map((line) => line.entry);
}

/** When the next timed entry ends, or null when none is timed. */
export function nextIgnoreExpiry(text: string): number | null {
  const times = listIgnoreLines(text).flatMap((line) => (line.until === undefined ? [] : [line.until]));
  return times.length === 0 ? null : Math.min(...times);
}

/** Removes every line whose entry equals `entry`. */
export function removeIgnoreLine(text: string, entry: string): { text: string; removed: boolean } {
  const lines = text.split('\n');
  const kept = lines.filter((raw) => {
    const hash = raw.indexOf('#');
    const content = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    return content === '' || canonical(content) !== entry;
  });
  return { text: kept.join('\n'), removed: kept.length !== lines.length };
}
