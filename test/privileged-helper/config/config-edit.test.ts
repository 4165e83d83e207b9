import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConfigChanges, changedKeys, configValues } from '../../../privileged-helper/config/config-edit.js';
import { addIgnoreLine, listIgnoreLines, removeIgnoreLine } from '../../../privileged-helper/config/ignore-edit.js';

const CONF = '# ports\nTCP_PORTS="1,11"\nRESOLVE_HOST = "0"\n#SCAN_TRIGGER="5"\n';

describe('config edits', () => {
  it('replaces a key in place, keeping comments, spacing and order', () => {
    assert.equal(applyConfigChanges(CONF, { RESOLVE_HOST: '1' }), '# ports\nTCP_PORTS="1,11"\nRESOLVE_HOST = "1"\n#SCAN_TRIGGER="5"\n');
  });
  it('appends keys the file does not set, never uncommenting a commented one', () => {
    assert.equal(applyConfigChanges(CONF, { SCAN_TRIGGER: '2' }), `${CONF}SCAN_TRIGGER="2"\n`);
    assert.equal(applyConfigChanges('TCP_PORTS="1"', { UDP_PORTS: '7' }), 'TCP_PORTS="1"\nUDP_PORTS="7"\n');
  });
  it('reads values and tells which keys changed', () => {
    assert.deepEqual(configValues(CONF, 'x'), { TCP_PORTS: '1,11', RESOLVE_HOST: '0' });
    assert.deepEqual(changedKeys({ A: '1', B: '2' }, { A: '1', B: '3', C: '4' }), ['B', 'C']);
    assert.deepEqual(changedKeys({ A: '1' }, {}), ['A']);
  });
});

describe('ignore file edits', () => {
  const text = '# admin notes\n127.0.0.1/32\n198.18.0.0/24  # lab\n';
  it('lists canonical entries with comments', () => {
    assert.deepEqual(listIgnoreLines(`${text}garbage line\nFD00::0001\n`), [{ entry: '127.0.0.1' }, { entry: '198.18.0.0/24', comment: 'lab' }, { entry: 'fd00::1' }]);
  });
  it('adds once, with a comment, and a newline where the file lacked one', () => {
    assert.deepEqual(addIgnoreLine(text, '127.0.0.1'), { text, added: false });
    assert.deepEqual(addIgnoreLine(text, 'fd00::/8', 'ula'), { text: `${text}fd00::/8  # ula\n`, added: true });
    // A list at its bound takes no more (an operator's additions; see MAX_OPERATOR_IGNORE_ENTRIES).
    const entries = listIgnoreLines(text).length;
    assert.deepEqual(addIgnoreLine(text, 'fd00::/8', 'ula', entries), { text, added: false, full: true });
    assert.equal(addIgnoreLine(text, 'fd00::/8', 'ula', entries + 1).added, true);
    assert.deepEqual(addIgnoreLine('10.0.0.1', '10.0.0.2'), { text: '10.0.0.1\n10.0.0.2\n', added: true });
  });
  it('removes every equal entry, however it was written, and keeps the rest', () => {
    assert.deepEqual(removeIgnoreLine(text, '127.0.0.1'), { text: '# admin notes\n198.18.0.0/24  # lab\n', removed: true });
    assert.deepEqual(removeIgnoreLine(text, '10.9.9.9'), { text, removed: false });
  });
});
