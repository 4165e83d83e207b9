// Timed ignore entries ("allow for 1 hour") in the ignore file: the end is written in the
// entry's comment, read back by listIgnoreLines, and found by expiredIgnoreEntries when it is
// up; an entry for good is left alone, and adding again with a new time replaces the old one.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addIgnoreLine, expiredIgnoreEntries, listIgnoreLines, nextIgnoreExpiry } from '../../../privileged-helper/config/ignore-edit.js';
import { parseIgnoreText } from '../../../privileged-helper/config/ignore-list.js';

const T = Date.parse('2026-12-08T01:00:00.000Z');

describe('timed ignore entries', () => {
  it('writes the end in the comment, reads it back, and the loader still reads the entry', () => {
    const { text, added } = addIgnoreLine('# admin comment\n10.0.0.1\n', '198.18.0.12', 'trusted from the dashboard', Infinity, T);
    assert.equal(added, true);
    assert.equal(text, '# admin comment\n10.0.0.1\n198.18.0.12  # allowed until 2026-12-08T01:00:00.000Z: trusted from the dashboard\n');
    assert.deepEqual(listIgnoreLines(text), [{ entry: '10.0.0.1' }, { entry: '198.18.0.12', comment: 'trusted from the dashboard', until: T }]);
    assert.deepEqual(
      parseIgnoreText(text, 'ignore').map((e) => e.address),
      ['10.0.0.1', '198.18.0.12'],
    );
    assert.equal(nextIgnoreExpiry(text), T);
  });

  it('finds the entries whose time is up, never an entry for good', () => {
    const text = `${addIgnoreLine('10.0.0.1\n', '198.18.0.12', undefined, Infinity, T).text}`;
    assert.deepEqual(expiredIgnoreEntries(text, T - 1), []);
    assert.deepEqual(expiredIgnoreEntries(text, T), ['198.18.0.12']);
    assert.equal(nextIgnoreExpiry('10.0.0.1\n'), null);
  });

  it('adding again with a new time (or for good) replaces the timed entry; the same time changes nothing', () => {
    const first = addIgnoreLine('', '198.18.0.12', undefined, Infinity, T).text;
    assert.deepEqual(addIgnoreLine(first, '198.18.0.12', undefined, Infinity, T), { text: first, added: false });
    assert.deepEqual(listIgnoreLines(addIgnoreLine(first, '198.18.0.12', undefined, Infinity, T + 3_600_000).text), [{ entry: '198.18.0.12', until: T + 3_600_000 }]);
    assert.deepEqual(listIgnoreLines(addIgnoreLine(first, '198.18.0.12').text), [{ entry: '198.18.0.12' }]);
    // An entry for good is not shortened by an allowance.
    assert.equal(addIgnoreLine('198.18.0.12\n', '198.18.0.12', undefined, Infinity, T).added, false);
  });
});
