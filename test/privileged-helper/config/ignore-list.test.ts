import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../privileged-helper/config/conf-file.js';
import { parseIgnoreText } from '../../../privileged-helper/config/ignore-list.js';
import { NeverBlock } from '../../../privileged-helper/never-block/never-block.js';

describe('ignore file', () => {
  it('reads the classic format: addresses, CIDRs, comments, blank lines', () => {
    const entries = parseIgnoreText('# static\n127.0.0.1/32\n0.0.0.0\n\n198.18.0.0/24 # lab\nfd00:5e::/64\nFD00::0001\n', '/etc/ign');
    assert.deepEqual(
      entries.map((e) => [e.address, e.prefix, e.family, e.line]),
      [
        ['127.0.0.1', 32, 4, 2],
        ['0.0.0.0', 32, 4, 3],
        ['198.18.0.0', 24, 4, 5],
        ['fd00:5e::', 64, 6, 6],
        ['fd00::1', 128, 6, 7],
      ],
    );
  });

  for (const [bad, pattern] of [
    ['example.com', /not an IPv4 or IPv6 address/],
    ['198.18.0.1/33', /not a valid prefix length/],
    ['fd00::/129', /not a valid prefix length/],
    ['198.18.0.1/24/1', /not an address or address\/prefix/],
    ['198.18.0.256', /not an IPv4/],
    ['198.18.0.1/x', /not a valid prefix/],
    ['$(reboot)', /not an IPv4/],
  ] as const) {
    it(`rejects "${bad}" naming the line`, () => {
      assert.throws(
        () => parseIgnoreText(`127.0.0.1\n${bad}\n`, '/etc/ign'),
        (error: unknown) => error instanceof ConfigError && error.line === 2 && pattern.test(error.message) && error.message.startsWith('/etc/ign:2: '),
      );
    });
  }
});

describe('never-block policy', () => {
  const policy = new NeverBlock(parseIgnoreText('198.18.1.0/24\nfd00:77::/48\n198.18.0.9\n', 'f'), ['198.18.0.10', 'fd00:5e::10']);

  it('ignores CIDR members and single addresses, v4 and v6', () => {
    assert.equal(policy.reasonToIgnore('198.18.1.200', 4), 'ignore-list');
    assert.equal(policy.reasonToIgnore('198.18.0.9', 4), 'ignore-list');
    assert.equal(policy.reasonToIgnore('fd00:77:0:1::5', 6), 'ignore-list');
  });

  it("always ignores the host's own and loopback addresses", () => {
    assert.equal(policy.reasonToIgnore('198.18.0.10', 4), 'own-address');
    assert.equal(policy.reasonToIgnore('fd00:5e::10', 6), 'own-address');
    assert.equal(policy.reasonToIgnore('127.0.0.53', 4), 'own-address');
    assert.equal(policy.reasonToIgnore('::1', 6), 'own-address');
    assert.equal(policy.reasonToIgnore('0.0.0.0', 4), 'own-address');
  });

  it('does not ignore anything else', () => {
    assert.equal(policy.reasonToIgnore('198.18.0.8', 4), null);
    assert.equal(policy.reasonToIgnore('198.18.2.1', 4), null);
    assert.equal(policy.reasonToIgnore('fd00:78::1', 6), null);
  });
});
