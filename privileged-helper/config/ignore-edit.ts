// Adds and removes entries of an ignore file without disturbing the admin's comments. Pure.

import { parseIgnoreEntry } from './ignore-list.js';

function canonical(text: string): string | null {
  const entry = parseIgnoreEntry(text);
  if (typeof entry === 'string') return null;
  return entry.prefix === (entry.family === 4 ? 32 : 128) ? entry.address : `${entry.address}/${entry.prefix}`;
}

export interface IgnoreLine {
  readonly entry: string;
  readonly comment?: string;
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
    out.push(comment === '' ? { entry } : { entry, comment });
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
export function addIgnoreLine(text: string, entry: string, comment?: string, maxEntries = Infinity): { text: string; added: boolean; full?: true } {
  const lines = listIgnoreLines(text);
  if (lines.some((line) => line.entry === entry)) return { text, added: false };
  if (lines.length >= maxEntries) return { text, added: false, full: true };
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  const suffix = comment !== undefined && comment !== '' ? `  # ${comment}` : '';
  return { text: `${text}${separator}${entry}${suffix}\n`, added: true };
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
