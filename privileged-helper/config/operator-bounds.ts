// How much of the network an operator (the desktop user, any member of the control group) may
// block or ignore. The page keeps no limits of its own (it shows these and the refusals); these hold,
// checked by the helper for every operator request, so no client can cut the host off the
// network or switch protection off unseen. Root is never bound by them. Pure: the caller
// passes what is held and listed now.
//
// Two checks per request:
// - width: one block or ignore entry no wider than root allows (OPERATOR_BLOCK_PREFIX4/6,
//   OPERATOR_IGNORE_PREFIX4/6; default /16 and /48);
// - total: many narrow prefixes can add up to everything (256 /16s are a /8, 65,536 of them
//   all of IPv4). So the addresses covered by every range already held (or listed), plus the
//   new one, must stay within one prefix of OPERATOR_RANGE_TOTAL4/6 bits (default a /8, a /32).
//   Ranges are counted whoever made them (what matters is how much is cut off or trusted),
//   overlaps twice (the count can only err on the side of refusing). A scanner's own block
//   (an IPv4 host, an IPv6 network of BLOCK_PREFIX6) is not a range here: blocking scanners
//   never uses up the operator's budget.

import { addressValue, parseBlockTarget, type BlockTarget } from '../../shared/domain/block-target.js';
import type { ConfigValues } from '../../shared/domain/config-keys.js';
import type { AddressFamily } from '../../shared/domain/types.js';

export type OperatorBounds = Pick<
  ConfigValues,
  'operatorBlockPrefix4' | 'operatorBlockPrefix6' | 'operatorIgnorePrefix4' | 'operatorIgnorePrefix6' | 'operatorRangeTotal4' | 'operatorRangeTotal6' | 'blockPrefix6'
>;

/** A prefix as the bound check sees it (a block target or an ignore entry). */
export interface Prefix {
  readonly address: string;
  readonly family: AddressFamily;
  readonly prefix: number;
}

const WIDTH = { 4: 32, 6: 128 } as const;

/** How many addresses a prefix covers. */
export function addressCount(family: AddressFamily, prefix: number): bigint {
  return 1n << BigInt(WIDTH[family] - prefix);
}

/**
 * Why an operator may not block `target`, or null when it is within root's bounds. `held`
 * are the keys of the blocks in force (the firewall owner's ledger); the block being
 * replaced (Extend) is not counted twice.
 */
export function operatorBlockRefusal(target: BlockTarget, held: Iterable<string>, bounds: OperatorBounds): string | null {
  const family = target.family;
  const widest = family === 4 ? bounds.operatorBlockPrefix4 : bounds.operatorBlockPrefix6;
  const scannerWidth = family === 4 ? 32 : Math.min(128, bounds.blockPrefix6);
  if (target.prefix >= scannerWidth) return null;
  if (target.prefix < widest) {
    return `${target.text} is wider than an operator may block (at most /${widest} for IPv${family}, OPERATOR_BLOCK_PREFIX${family}); root may block it with "sudo portsentryctl block ${target.text}"`;
  }
  const ranges: Prefix[] = [];
  for (const key of held) {
    // Cheap filter first: the ledger may hold a million scanner blocks, and only ranges count.
    const slash = key.indexOf('/');
    if (slash < 0 || key === target.text || Number(key.slice(slash + 1)) >= scannerWidth) continue;
    const parsed = parseBlockTarget(key);
    if (typeof parsed !== 'string' && parsed.family === family) ranges.push({ address: parsed.network, family, prefix: parsed.prefix });
  }
  return totalRefusal({ address: target.network, family, prefix: target.prefix }, ranges, family === 4 ? bounds.operatorRangeTotal4 : bounds.operatorRangeTotal6, 'blocked');
}

/** Why an operator may not add this ignore entry, or null. `listed`: the entries in the ignore file now. */
export function operatorIgnoreRefusal(entry: Prefix, listed: readonly Prefix[], bounds: OperatorBounds): string | null {
  const family = entry.family;
  if (entry.prefix === WIDTH[family]) return null;
  const widest = family === 4 ? bounds.operatorIgnorePrefix4 : bounds.operatorIgnorePrefix6;
  const text = `${entry.address}/${entry.prefix}`;
  if (entry.prefix < widest) {
    return `${text} is wider than an operator may ignore (at most /${widest} for IPv${family}, OPERATOR_IGNORE_PREFIX${family}): ignoring it would stop protection against that whole range; root may add it with "sudo portsentryctl ignore add ${text}"`;
  }
  const ranges = listed.filter((other) => other.family === family && other.prefix < WIDTH[family] && !(other.address === entry.address && other.prefix === entry.prefix));
  return totalRefusal(entry, ranges, family === 4 ? bounds.operatorRangeTotal4 : bounds.operatorRangeTotal6, 'ignored');
}

function totalRefusal(added: Prefix, ranges: readonly Prefix[], totalPrefix: number, verb: 'blocked' | 'ignored'): string | null {
  const family = added.family;
  const limit = addressCount(family, totalPrefix);
  const before = ranges.reduce((sum, range) => sum + addressCount(family, range.prefix), 0n);
  const after = before + addressCount(family, added.prefix);
  if (after <= limit) return null;
  return (
    `${added.address}/${added.prefix} would bring the IPv${family} ranges ${verb} to ${after.toLocaleString('en-US')} addresses, ` +
    `more than an operator may reach (${limit.toLocaleString('en-US')}, one /${totalPrefix}, OPERATOR_RANGE_TOTAL${family}); ` +
    `${ranges.length} range${ranges.length === 1 ? ' is' : 's are'} ${verb} now: lift some, or ask root`
  );
}

/**
 * Whether the entries together cover every address of the family (0.0.0.0/0, or two /1s, or
 * any set of ranges whose union is everything): then every scanner is ignored.
 */
export function coversFamily(entries: readonly Prefix[], family: AddressFamily): boolean {
  const spans = entries
    .filter((entry) => entry.family === family)
    .map((entry) => {
      const start = addressValue(entry.address, family) & ~(addressCount(family, entry.prefix) - 1n);
      return [start, start + addressCount(family, entry.prefix)] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let reached = 0n;
  for (const [start, end] of spans) {
    if (start > reached) return false;
    if (end > reached) reached = end;
  }
  return reached >= addressCount(family, 0);
}
