import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateTarget, blockCovers, maskAddress, parseBlockTarget, prefixMask, protectedOverlap } from '../../../shared/domain/block-target.js';
import { BlockIndex } from '../../../privileged-helper/firewall/block-capacity.js';

describe('block targets', () => {
  it('parses addresses and prefixes into canonical text, refusing host bits and mapped prefixes', () => {
    assert.equal((parseBlockTarget('198.18.0.0/24') as { text: string }).text, '198.18.0.0/24');
    assert.equal((parseBlockTarget('FD00:5E:0:0::/64') as { text: string }).text, 'fd00:5e::/64');
    assert.equal((parseBlockTarget('198.18.0.9/32') as { text: string }).text, '198.18.0.9');
    assert.equal((parseBlockTarget('::ffff:198.18.0.9') as { text: string }).text, '198.18.0.9');
    for (const bad of ['198.18.0.9/24', '198.18.0.0/33', 'fd00::/129', '::ffff:198.18.0.0/120', 'example.com/8', '198.18.0.0/24/1', '198.18.0.0/ 24', '', '1.2.3.4; x']) {
      assert.equal(typeof parseBlockTarget(bad), 'string', bad);
    }
    assert.match(parseBlockTarget('198.18.0.9/24') as string, /198\.18\.0\.0\/24/, 'names the network meant');
  });

  it('aggregates IPv6 sources to their prefix and leaves IPv4 alone', () => {
    assert.equal(aggregateTarget('fd00:77:0:1:abcd::5', 6, 64).text, 'fd00:77:0:1::/64');
    assert.equal(aggregateTarget('fd00:77:0:1:abcd::5', 6, 128).text, 'fd00:77:0:1:abcd::5');
    assert.equal(aggregateTarget('198.18.0.9', 4, 64).text, '198.18.0.9');
    assert.equal(maskAddress('198.18.7.9', 4, 20), '198.18.0.0');
    assert.equal(prefixMask(6, 56), 'ffff:ffff:ffff:ff00::');
  });

  it('says whether a block or ignore entry covers an address or a range', () => {
    assert.equal(blockCovers('198.18.0.12', '198.18.0.12'), true);
    assert.equal(blockCovers('198.18.0.12/30', '198.18.0.15'), true);
    assert.equal(blockCovers('198.18.0.12/30', '198.18.0.16'), false);
    assert.equal(blockCovers('198.18.0.0/24', '198.18.0.12/30'), true);
    assert.equal(blockCovers('198.18.0.12/30', '198.18.0.0/24'), false, 'a narrower range does not cover a wider one');
    assert.equal(blockCovers('198.18.0.5/24', '198.18.0.200'), true, 'an ignore entry with host bits still covers its network');
    assert.equal(blockCovers('fd00:5e::/64', 'fd00:5e::c'), true);
    assert.equal(blockCovers('fd00:5e::/64', '198.18.0.12'), false);
    assert.equal(blockCovers('not an address', '198.18.0.12'), false);
  });

  it('finds a protected network a prefix overlaps, either way round', () => {
    const own = [
      { address: 'fd00:5e::a', family: 6 as const, prefix: 128, why: 'own' },
      { address: '198.18.7.0', family: 4 as const, prefix: 24, why: 'ignore' },
    ];
    const target = (text: string) => parseBlockTarget(text) as Exclude<ReturnType<typeof parseBlockTarget>, string>;
    assert.equal(protectedOverlap(target('fd00:5e::/64'), own)?.why, 'own');
    assert.equal(protectedOverlap(target('fd00:5f::/64'), own), null);
    assert.equal(protectedOverlap(target('198.18.0.0/16'), own)?.why, 'ignore', 'contains the ignored /24');
    assert.equal(protectedOverlap(target('198.18.7.128/25'), own)?.why, 'ignore', 'inside the ignored /24');
    assert.equal(protectedOverlap(target('198.18.8.0/24'), own), null);
  });
});

describe('block capacity index', () => {
  it('evicts the soonest to expire first, then the oldest permanent ones', () => {
    const index = new BlockIndex(10);
    index.note('a', null, 0); // permanent, oldest
    index.note('b', 5000, 0);
    index.note('c', 2000, 0);
    index.note('d', null, 0);
    // Both that lapse go before any permanent one; among permanent ones the oldest goes first.
    assert.deepEqual(index.victims(3, 0), ['b', 'c', 'a']);
    assert.deepEqual(index.victims(1, 0), ['c']);
  });

  it('forgets what lapsed, and warns once when 90 % full until it empties again', () => {
    const index = new BlockIndex(10);
    const news = [];
    for (let i = 0; i < 10; i++) news.push(index.note(String(i), i < 5 ? 1000 : null, 0));
    assert.equal(news.filter((n) => n !== null).length, 1);
    index.prune(2000);
    assert.equal(index.size, 5);
    for (let i = 10; i < 13; i++) assert.equal(index.note(String(i), null, 3000), null, 'not yet 90 % again');
    assert.notEqual(index.note('14', null, 20_000), null, 're-armed after it emptied');
  });
});
