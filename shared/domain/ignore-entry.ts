// One ignore-list entry (`address` or `address/prefix`, IPv4 or IPv6): the helper's ignore
// file parser and the settings window's ignore editor read entries with this one function.

import { parseAddress } from './address.js';
import { printable } from './text.js';

export interface IgnoreEntry {
  readonly address: string;
  readonly family: 4 | 6;
  readonly prefix: number;
}

/** The parsed entry, or an error sentence. */
export function parseIgnoreEntry(text: string): IgnoreEntry | string {
  const [addressText, prefixText, extra] = text.split('/');
  if (extra !== undefined || addressText === undefined) return `"${printable(text)}" is not an address or address/prefix`;
  const parsed = parseAddress(addressText);
  if (parsed === null) return `"${printable(addressText)}" is not an IPv4 or IPv6 address`;
  const max = parsed.family === 4 ? 32 : 128;
  if (prefixText === undefined) return { address: parsed.address, family: parsed.family, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return `"/${printable(prefixText)}" is not a valid prefix length for ${parsed.address} (0-${max})`;
  }
  return { address: parsed.address, family: parsed.family, prefix: Number(prefixText) };
}
