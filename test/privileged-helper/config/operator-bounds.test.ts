import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBlockTarget, type BlockTarget } from '../../../shared/domain/block-target.js';
import { parseIgnoreEntry } from '../../../shared/domain/ignore-entry.js';
import { coversFamily, operatorBlockRefusal, operatorIgnoreRefusal, type OperatorBounds, type Prefix } from '../../../privileged-helper/config/operator-bounds.js';

const BOUNDS: OperatorBounds = {
  operatorBlockPrefix4: 16,
  operatorBlockPrefix6: 48,
  operatorIgnorePrefix4: 16,
  operatorIgnorePrefix6: 48,
  operatorRangeTotal4: 8,
  operatorRangeTotal6: 32,
  blockPrefix6: 64,
};

const target = (text: string): BlockTarget => {
  const parsed = parseBlockTarget(text);
  assert.ok(typeof parsed !== 'string', parsed as string);
  return parsed;
};
const entry = (text: string): Prefix => {
  const parsed = parseIgnoreEntry(text);
  assert.ok(typeof parsed !== 'string', parsed as string);
  return parsed;
};

/** The 49 prefixes of issue 21: all of IPv4 but 198.18.0.1 (the host) and 198.18.0.2 (its gateway). */
function allButTwo(): string[] {
  const out: string[] = [];
  // Split 0.0.0.0/0 down the path to 198.18.0.0/31 and keep every sibling, then 198.18.0.3.
  let network = 0;
  const goal = (198 << 24) | (18 << 16);
  for (let prefix = 1; prefix <= 31; prefix += 1) {
    const bit = 2 ** (32 - prefix);
    const sibling = (goal & bit) === 0 ? network + bit : network;
    out.push(`${[24, 16, 8, 0].map((shift) => Math.floor(sibling / 2 ** shift) % 256).join('.')}/${prefix}`);
    if ((goal & bit) !== 0) network += bit;
  }
  return out;
}

describe('operator bounds', () => {
  it('refuses a block wider than root allows, with the reason and the bound', () => {
    const refusal = operatorBlockRefusal(target('128.0.0.0/2'), [], BOUNDS);
    assert.match(refusal ?? '', /128\.0\.0\.0\/2 is wider than an operator may block \(at most \/16 for IPv4, OPERATOR_BLOCK_PREFIX4\)/);
    assert.match(operatorBlockRefusal(target('fd00::/32'), [], BOUNDS) ?? '', /at most \/48 for IPv6/);
    assert.equal(operatorBlockRefusal(target('198.18.0.0/16'), [], BOUNDS), null);
    assert.equal(operatorBlockRefusal(target('fd00:1::/48'), [], BOUNDS), null);
    assert.equal(operatorBlockRefusal(target('198.18.0.7'), [], BOUNDS), null, 'one host is never a range');
    assert.equal(operatorBlockRefusal(target('fd00:1:2:3::/64'), [], BOUNDS), null, "an IPv6 scanner's own block is not a range");
  });

  it('refuses narrow blocks that add up to more than the total, counting what is held', () => {
    // 256 /16s are one /8: the 256th fits, the 257th does not.
    const held = Array.from({ length: 255 }, (_, i) => `10.${i}.0.0/16`);
    assert.equal(operatorBlockRefusal(target('11.0.0.0/16'), held, BOUNDS), null);
    const refusal = operatorBlockRefusal(target('11.0.0.0/16'), [...held, '10.255.0.0/16'], BOUNDS);
    assert.match(refusal ?? '', /16,842,752 addresses, more than an operator may reach \(16,777,216, one \/8, OPERATOR_RANGE_TOTAL4\); 256 ranges are blocked now/);
    // Scanner blocks (hosts, IPv6 /64s) and the block being extended do not count.
    const hosts = Array.from({ length: 1000 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);
    assert.equal(operatorBlockRefusal(target('10.255.0.0/16'), [...held, '10.255.0.0/16', ...hosts, 'fd00::/64'], BOUNDS), null);
  });

  it("refuses the 49 prefixes that cover all of IPv4 but the host's own /32s long before the last", () => {
    const prefixes = allButTwo();
    // Even with the width bound lifted, the total stops them.
    const wide: OperatorBounds = { ...BOUNDS, operatorBlockPrefix4: 0 };
    const held: string[] = [];
    let accepted = 0;
    for (const text of prefixes) {
      if (operatorBlockRefusal(target(text), held, wide) !== null) continue;
      held.push(text);
      accepted += 1;
    }
    const covered = held.reduce((sum, text) => sum + 2 ** (32 - target(text).prefix), 0);
    assert.ok(covered <= 2 ** 24, `at most a /8 worth is blocked (${covered})`);
    assert.ok(accepted < prefixes.length);
  });

  it('refuses an ignore entry wider than root allows, and ranges that add up to too much; one host always passes', () => {
    assert.match(operatorIgnoreRefusal(entry('0.0.0.0/0'), [], BOUNDS) ?? '', /0\.0\.0\.0\/0 is wider than an operator may ignore \(at most \/16 for IPv4, OPERATOR_IGNORE_PREFIX4\)/);
    assert.match(operatorIgnoreRefusal(entry('::/0'), [], BOUNDS) ?? '', /at most \/48 for IPv6/);
    assert.equal(operatorIgnoreRefusal(entry('198.18.9.0/24'), [], BOUNDS), null);
    assert.equal(operatorIgnoreRefusal(entry('198.18.9.1'), [entry('0.0.0.0/0')], BOUNDS), null);
    const listed = Array.from({ length: 256 }, (_, i) => entry(`10.${i}.0.0/16`));
    assert.match(operatorIgnoreRefusal(entry('11.0.0.0/16'), listed, BOUNDS) ?? '', /ranges ignored to 16,842,752 addresses/);
    assert.equal(operatorIgnoreRefusal(entry('10.0.0.0/16'), listed.slice(0, 256), BOUNDS) === null, true, 'an entry already listed is not counted twice');
  });

  it('knows when the ignore entries together cover a whole family', () => {
    assert.equal(coversFamily([entry('0.0.0.0/0')], 4), true);
    assert.equal(coversFamily([entry('0.0.0.0/1'), entry('128.0.0.0/1')], 4), true);
    assert.equal(coversFamily([entry('0.0.0.0/1'), entry('128.0.0.0/2')], 4), false);
    assert.equal(coversFamily([entry('1.2.3.4/1'), entry('200.0.0.0/1')], 4), true, 'host bits under the prefix are masked');
    assert.equal(coversFamily(allButTwo().map(entry), 4), false);
    assert.equal(coversFamily([...allButTwo().map(entry), entry('198.18.0.0/31')], 4), true);
    assert.equal(coversFamily([entry('0.0.0.0/0')], 6), false);
    assert.equal(coversFamily([entry('::/1'), entry('8000::/1')], 6), true);
  });
});
