import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockLedger } from '../../../privileged-helper/firewall/block-ledger.js';

describe('block ledger', () => {
  it('holds pending, confirmed and lapsing blocks apart', () => {
    const ledger = new BlockLedger();
    ledger.markPending('198.18.0.1');
    ledger.confirm('198.18.0.2', null);
    ledger.confirm('198.18.0.3', 1000);
    assert.equal(ledger.isBlocked('198.18.0.1', 0), true);
    assert.equal(ledger.until('198.18.0.1'), undefined, 'a pending block has no lifetime yet');
    assert.deepEqual(
      [...ledger.confirmed(0)],
      [
        { key: '198.18.0.2', until: null },
        { key: '198.18.0.3', until: 1000 },
      ],
    );
    assert.deepEqual([...ledger.confirmed(1000)], [{ key: '198.18.0.2', until: null }], 'lapsed blocks are not held');
    assert.deepEqual(ledger.takeExpired(1000), ['198.18.0.3']);
    assert.equal(ledger.abandon('198.18.0.2'), false, 'only a pending mark is abandoned');
    assert.equal(ledger.abandon('198.18.0.1'), true);
    assert.deepEqual(ledger.keys(), ['198.18.0.2']);
  });
});
