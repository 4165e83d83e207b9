// The blocked-hosts panel's logic, free of DOM: what the block form sends (one address or a
// range), which block covers an address (the one answer to "is it blocked" for every surface),
// a scanner's state in words with the helper's reason, which blocks a search keeps, how long
// an extended block lasts, and the ports a scanner touched written as ranges.

import type { BlockEntry } from '../../shared/protocol/schemas.js';
import { parseIgnoreEntry } from '../../shared/domain/ignore-entry.js';
import { blockCovers } from '../../shared/domain/block-target.js';
import { ACTION_LABELS, formatTime } from '../lib/format.js';
import type { ScanEvent } from './event-model.js';
import { MAX_BLOCK_TIMEOUT_SECONDS } from '../lib/text-rules.js';

/**
 * The block target typed by the user: one address, or address/prefix. Canonical as the
 * helper writes it (a /32 or /128 is the bare address). The host part of a range must be
 * zero, so what is blocked is exactly what is shown.
 */
export function parseBlockTarget(text: string): { target: string; range: boolean } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'Enter the address or range to block.' };
  const parsed = parseIgnoreEntry(trimmed);
  if (typeof parsed === 'string') {
    return { error: `${parsed.slice(0, 120)}. Enter one address, e.g. 198.51.100.7 or 2001:db8::7, or a range such as 198.51.100.0/24 (no names).` };
  }
  const max = parsed.family === 4 ? 32 : 128;
  if (parsed.prefix === max) return { target: parsed.address, range: false };
  // How wide a range may be is the helper's to say (root's operator bounds, checked for every
  // request): the page keeps no rule of its own, it shows the bounds and the helper's refusal.
  const network = networkAddress(parsed.address, parsed.family, parsed.prefix);
  if (network !== parsed.address) return { error: `${parsed.address}/${parsed.prefix} has host bits set; did you mean ${network}/${parsed.prefix}?` };
  return { target: `${parsed.address}/${parsed.prefix}`, range: true };
}

/** The first address of a range, in the canonical text form parseAddress gives. */
export function networkAddress(address: string, family: 4 | 6, prefix: number): string {
  if (family === 4) {
    const value = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - prefix);
    const network = value - (value % size);
    return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
  }
  const words = expandIpv6(address);
  let bits = prefix;
  const masked = words.map((word) => {
    const keep = Math.max(0, Math.min(16, bits));
    bits -= 16;
    return keep === 0 ? 0 : word & (0xffff << (16 - keep)) & 0xffff;
  });
  return compressIpv6(masked);
}

function expandIpv6(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const part = (text: string) => (text === '' ? [] : text.split(':').map((w) => parseInt(w, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** RFC 5952: longest run of two or more zero words becomes "::". */
function compressIpv6(words: number[]): string {
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { at: i, length: j - i };
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

/** Blocks whose address or reason contains every word of the search (case-insensitive). */
export function filterBlocks(blocks: readonly BlockEntry[], search: string): BlockEntry[] {
  const words = search
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  return blocks.filter((block) => {
    const text = `${block.address} ${block.reason}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/**
 * Seconds to ask for when a block is extended by `bySeconds`: from its current end (or now,
 * if that has passed). Null for a block that lasts until unblocked (nothing to extend).
 */
export function extendedTimeout(block: BlockEntry, bySeconds: number, now: number): number | null {
  if (block.until === null) return null;
  const from = Math.max(block.until, now);
  return Math.min(MAX_BLOCK_TIMEOUT_SECONDS, Math.ceil((from - now) / 1000) + bySeconds);
}

/** "1-3, 79, 111" for a sorted or unsorted list of ports. */
export function portRanges(ports: readonly number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * The block in the helper's list that covers `address` (the address itself, or a range that
 * contains it), or null. The list is blocks.list, the firewall owner's ledger: nothing else
 * may make a page say "blocked".
 */
export function coveringBlock(address: string, blocks: readonly BlockEntry[]): BlockEntry | null {
  return blocks.find((b) => b.address === address) ?? blocks.find((b) => blockCovers(b.address, address)) ?? null;
}

/** What a scanner's state is now, in words: blocked (by what, until when) or not, and why not. */
export interface ScannerState {
  readonly blocked: boolean;
  readonly text: string;
}

/**
 * The state of one source: blocked only when a block of the helper's list covers it;
 * otherwise the reason the helper gave with its latest probe (report only, paused, over the
 * per-prefix rate limit, never blocked, below the trigger, a failed block), or that its block
 * was lifted.
 */
export function scannerState(address: string, blocks: readonly BlockEntry[], latest: Pick<ScanEvent, 'action' | 'reason'> | null): ScannerState {
  const block = coveringBlock(address, blocks);
  if (block !== null) {
    const by = block.address === address ? '' : ` by ${block.address}`;
    return { blocked: true, text: `Blocked${by} ${block.until === null ? 'until unblocked' : `until ${formatTime(block.until)}`}` };
  }
  if (latest === null) return { blocked: false, text: 'Not blocked' };
  if (latest.action === 'blocked' || latest.action === 'already-blocked') return { blocked: false, text: 'Not blocked: its block was lifted or expired' };
  return { blocked: false, text: `Not blocked: ${notBlockedReason(latest)}` };
}

/** Why a probe did not lead to a block, as the helper said it (its label when it gave no reason). */
export function notBlockedReason(event: Pick<ScanEvent, 'action' | 'reason'>): string {
  const said = event.reason?.replace(/^(reported already, )?not blocked: /, '');
  return said === undefined || said === '' ? ACTION_LABELS[event.action].toLowerCase() : said;
}
