import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sourceProblem } from '../../../privileged-helper/capture/source-address.js';
import { NeverBlock } from '../../../privileged-helper/never-block/never-block.js';
import { parseAddress } from '../../../shared/domain/address.js';

describe('sourceProblem: addresses no remote scanner can have', () => {
  const cases: Array<[string, string | null]> = [
    ['::ffff:198.18.0.77', 'ipv4-mapped'],
    ['::FFFF:c612:4d', 'ipv4-mapped'],
    ['0:0:0:0:0:ffff:198.18.0.77', 'ipv4-mapped'],
    ['::198.18.0.77', 'ipv4-compatible'],
    ['::ffff:0:198.18.0.77', 'ipv4-compatible'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.255.0.1', 'reserved'],
    ['127.0.0.53', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['250.1.2.3', 'reserved'],
    ['198.18.0.77', null],
    ['fd00:5e::b', null],
    ['2001:db8::ffff:198.18.0.77', null],
    ['fec0::1', null],
    ['::2:0:0:1', null],
    ['not an address', null],
  ];
  for (const [text, problem] of cases) {
    it(`${text} -> ${String(problem)}`, () => assert.equal(sourceProblem(text), problem));
  }
});

describe('NeverBlock refuses such sources on every path (probes and blocks by hand)', () => {
  it('multicast, link-local and reserved addresses are never blockable; ordinary ones are', () => {
    const policy = new NeverBlock([], { own: ['198.18.0.10'] });
    for (const text of ['ff02::1', 'fe80::1', '169.254.1.1', '224.0.0.1', '240.0.0.1', '255.255.255.255', '0.1.2.3']) {
      const parsed = parseAddress(text)!;
      assert.equal(policy.reasonToIgnore(parsed.address, parsed.family), 'not-unicast', text);
    }
    assert.equal(policy.reasonToIgnore('198.18.0.77', 4), null);
    assert.equal(policy.reasonToIgnore('fd00:5e::b', 6), null);
  });
});
