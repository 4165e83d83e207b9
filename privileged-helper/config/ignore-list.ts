// The ignore file (IGNORE_FILE, 1.2's name): single addresses or CIDR networks, IPv4 and IPv6,
// `#` comments. Pure parsing; what the helper does with the entries is never-block/never-block.ts.

import { ConfigError } from './conf-file.js';
import { parseIgnoreEntry } from '../../shared/domain/ignore-entry.js';

export { parseIgnoreEntry };

export interface IgnoreEntry {
  readonly address: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  readonly line: number;
}

/** Parses an ignore file. Throws ConfigError naming the line of the first bad entry. */
export function parseIgnoreText(text: string, file: string): IgnoreEntry[] {
  const entries: IgnoreEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    // Classic ignore files allow a trailing comment after the address.
    const content = raw.replace(/#.*$/, '').trim();
    if (content === '') return;
    const entry = parseIgnoreEntry(content);
    if (typeof entry === 'string') throw new ConfigError(file, line, entry);
    entries.push({ ...entry, line });
  });
  return entries;
}
