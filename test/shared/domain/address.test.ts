// The one address parser (shared/domain/address.ts, node-free so the renderer can load it)
// against the oracle it must equal: node:net's own validation and SocketAddress's canonical
// form, on thousands of generated inputs, plus the ignore-entry reader built on it.

import assert from 'node:assert/strict';
import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { describe, it } from 'node:test';
import { parseAddress } from '../../../shared/domain/address.js';
import { parseIgnoreEntry } from '../../../shared/domain/ignore-entry.js';

/** What node itself says: the reference the node-free parser is held to. */
function nodeOracle(text: string): { address: string; family: 4 | 6 } | null {
  if (text.length === 0 || text.length > 45) return null;
  if (isIPv4(text)) return { address: text, family: 4 };
  if (!isIPv6(text) || text.includes('%')) return null;
  const canonical = new SocketAddress({ address: text, family: 'ipv6' }).address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical);
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return { address: mapped[1], family: 4 };
  return { address: canonical, family: 6 };
}

/** A deterministic stream of pseudo-random numbers, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function addressInputs(): string[] {
  const fixed = [
    '198.51.100.7',
    '0.0.0.0',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.4; reboot',
    '$(reboot)',
    'example.com',
    '',
    '::',
    '::1',
    '::2',
    '::0.0.0.2',
    '1::',
    '::ffff:1.2.3.4',
    '::FFFF:1.2.3.4',
    '::ffff:0:0',
    '::1.2.3.4',
    '::ffff:1.2.3',
    'fd00:5e::b',
    'FD00:5E::B',
    'fd00:5e:0:0:0:0:0:b',
    'fd00::5e::b',
    '2001:db8::1%eth0',
    '2001:db8::/32',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:1.2.3.4',
    '1:0:0:0:0:6:1.2.3.4',
    '0:0:0:0:0:0:0:1',
    '0:0:1:0:0:0:1:0',
    '1:0:0:2:0:0:0:3',
    '12345::',
    'g::1',
    ':::',
    '1:::2',
    ':1::2',
    '1::2:',
    '::ffff:255.255.255.255',
    '0::ffff:1.2.3.4',
    '::ffff:01.2.3.4',
    'fe80::1',
    '1:2:3:4:5:6:7:8.',
    '::1.2.3.4.5',
    '1.2.3.4::',
    '::0:1.2.3.4',
    '0:0:0:0:0:ffff:102:304',
    '::1:ffff:1.2.3.4',
    '00000::1',
    '0001::1',
  ];
  const next = random(42);
  const alphabet = '0123456789abcdefABCDEF:.';
  for (let i = 0; i < 4000; i++) {
    const length = 1 + Math.floor(next() * 30);
    fixed.push(Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
  }
  // Valid addresses written in many ways: zero runs of every length, upper case, embedded IPv4.
  for (let i = 0; i < 4000; i++) {
    const words = Array.from({ length: 8 }, () => (next() < 0.5 ? 0 : Math.floor(next() * (next() < 0.3 ? 16 : 65536))));
    if (next() < 0.2) words.splice(0, 6, 0, 0, 0, 0, 0, next() < 0.5 ? 0xffff : 0);
    let written = words.map((w) => w.toString(16)).join(':');
    if (next() < 0.6) {
      const start = Math.floor(next() * 8);
      const length = 1 + Math.floor(next() * (8 - start));
      if (words.slice(start, start + length).every((w) => w === 0)) {
        written = `${words
          .slice(0, start)
          .map((w) => w.toString(16))
          .join(':')}::${words
          .slice(start + length)
          .map((w) => w.toString(16))
          .join(':')}`;
      }
    }
    if (next() < 0.2 && !written.endsWith('::')) {
      const [w6, w7] = [words[6]!, words[7]!];
      written = written.replace(/[0-9a-f]*:[0-9a-f]*$/, `${w6 >> 8}.${w6 & 255}.${w7 >> 8}.${w7 & 255}`);
    }
    fixed.push(next() < 0.2 ? written.toUpperCase() : written);
  }
  return fixed;
}

describe('the shared address parser', () => {
  it('accepts exactly what node accepts and gives the same canonical form (8,000 generated inputs)', () => {
    let valid = 0;
    for (const input of addressInputs()) {
      const expected = nodeOracle(input);
      assert.deepEqual(parseAddress(input), expected, `input ${JSON.stringify(input)}`);
      if (expected !== null) valid += 1;
    }
    assert.ok(valid > 3000, `enough valid inputs to mean something (${valid})`);
  });

  it('reads ignore entries: canonical address, prefix within the family, one sentence per mistake', () => {
    assert.deepEqual(parseIgnoreEntry('198.51.100.0/24'), { address: '198.51.100.0', family: 4, prefix: 24 });
    assert.deepEqual(parseIgnoreEntry('2001:DB8::/32'), { address: '2001:db8::', family: 6, prefix: 32 });
    assert.deepEqual(parseIgnoreEntry('198.51.100.7'), { address: '198.51.100.7', family: 4, prefix: 32 });
    assert.equal(parseIgnoreEntry('198.51.100.0/33'), '"/33" is not a valid prefix length for 198.51.100.0 (0-32)');
    assert.equal(parseIgnoreEntry('1.2.3.4/1/2'), '"1.2.3.4/1/2" is not an address or address/prefix');
    assert.equal(parseIgnoreEntry('1.2.3.4; reboot'), '"1.2.3.4; reboot" is not an IPv4 or IPv6 address');
    assert.deepEqual(parseIgnoreEntry('1.2.3.4/08'), { address: '1.2.3.4', family: 4, prefix: 8 }, 'as the classic file reads it');
    assert.match(String(parseIgnoreEntry('1.2.3.4/ 8')), /not a valid prefix length/);
  });
});
