import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NeverBlock } from '../../../privileged-helper/never-block/never-block.js';
import type { Probe } from '../../../shared/domain/types.js';
import { DetectionEngine } from '../../../privileged-helper/engine/engine.js';

const HOUR = 3_600_000;
const noIgnores = new NeverBlock([], []);

function probe(source: string, at: number, port = 1524): Probe {
  return { source, family: source.includes(':') ? 6 : 4, port, protocol: 'tcp', kind: 'connect', mode: 'tcp', at };
}

function engine(scanTrigger: number, maxSources = 1000, windowMs = HOUR, policy = noIgnores): DetectionEngine {
  return new DetectionEngine({ scanTrigger, windowMs, maxSources }, policy);
}

describe('SCAN_TRIGGER', () => {
  it('0 and 1 both act on the first touch, like the original', () => {
    assert.equal(engine(0).assess(probe('198.18.0.3', 0)).kind, 'triggered');
    assert.equal(engine(1).assess(probe('198.18.0.3', 0)).kind, 'triggered');
  });

  it('N acts on the Nth touch and counts the ones before', () => {
    const e = engine(3);
    assert.deepEqual(e.assess(probe('198.18.0.3', 0)), { kind: 'counted', hits: 1, needed: 3 });
    assert.deepEqual(e.assess(probe('198.18.0.3', 10, 1525)), { kind: 'counted', hits: 2, needed: 3 });
    assert.deepEqual(e.assess(probe('198.18.0.3', 20, 1526)), { kind: 'triggered', hits: 3 });
  });

  it('counts each source separately', () => {
    const e = engine(2);
    assert.equal(e.assess(probe('198.18.0.3', 0)).kind, 'counted');
    assert.equal(e.assess(probe('198.18.0.4', 1)).kind, 'counted');
    assert.equal(e.assess(probe('fd00::3', 2)).kind, 'counted');
    assert.equal(e.assess(probe('198.18.0.3', 3)).kind, 'triggered');
  });

  it('forgets touches older than the window', () => {
    const e = engine(2, 1000, 1000);
    assert.equal(e.assess(probe('198.18.0.3', 0)).kind, 'counted');
    assert.equal(e.assess(probe('198.18.0.3', 1500)).kind, 'counted');
    assert.equal(e.assess(probe('198.18.0.3', 1600)).kind, 'triggered');
  });
});

describe('already blocked', () => {
  it('dedupes the rest of a scan from the moment of the decision', () => {
    const e = engine(0);
    assert.equal(e.assess(probe('198.18.0.3', 0)).kind, 'triggered');
    // The firewall has not answered yet: the next probes must not trigger a second response.
    assert.equal(e.assess(probe('198.18.0.3', 1, 1)).kind, 'already-blocked');
    e.confirmBlock('198.18.0.3', null);
    assert.equal(e.assess(probe('198.18.0.3', 5 * HOUR)).kind, 'already-blocked');
  });

  it('a failed response lets the next probe try again', () => {
    const e = engine(0);
    e.assess(probe('198.18.0.3', 0));
    e.abandonBlock('198.18.0.3');
    assert.equal(e.assess(probe('198.18.0.3', 1)).kind, 'triggered');
  });

  it('abandoning a confirmed block does nothing', () => {
    const e = engine(0);
    e.assess(probe('198.18.0.3', 0));
    e.confirmBlock('198.18.0.3', null);
    e.abandonBlock('198.18.0.3');
    assert.equal(e.isBlocked('198.18.0.3', 1), true);
  });

  it('blocks with an expiry lapse and are handed back once', () => {
    const e = engine(0);
    e.assess(probe('198.18.0.3', 0));
    e.confirmBlock('198.18.0.3', 1000);
    e.recordBlock('fd00::9', null);
    assert.deepEqual(e.takeExpiredBlocks(999), []);
    assert.equal(e.isBlocked('198.18.0.3', 1000), false);
    assert.deepEqual(e.takeExpiredBlocks(1000), ['198.18.0.3']);
    assert.deepEqual(e.takeExpiredBlocks(2000), []);
    assert.deepEqual(e.blockedAddresses(), ['fd00::9']);
    assert.equal(e.assess(probe('198.18.0.3', 2000)).kind, 'triggered');
  });

  it('forgetBlock lifts a block and reports whether there was one', () => {
    const e = engine(0);
    e.recordBlock('198.18.0.3', null);
    assert.equal(e.forgetBlock('198.18.0.3'), true);
    assert.equal(e.forgetBlock('198.18.0.3'), false);
    assert.equal(e.assess(probe('198.18.0.3', 0)).kind, 'triggered');
  });
});

describe('ignore list', () => {
  it('never counts or blocks ignored and own addresses', () => {
    const policy = new NeverBlock([{ address: '198.18.1.0', family: 4, prefix: 24 }], ['198.18.0.10']);
    const e = engine(0, 1000, HOUR, policy);
    assert.deepEqual(e.assess(probe('198.18.1.7', 0)), { kind: 'ignored', reason: 'ignore-list' });
    assert.deepEqual(e.assess(probe('198.18.0.10', 0)), { kind: 'ignored', reason: 'own-address' });
    assert.equal(e.stats().trackedSources, 0);
    assert.equal(e.stats().blocked, 0);
  });

  it('a reconfigured ignore list applies at once and keeps counts', () => {
    const e = engine(2);
    e.assess(probe('198.18.0.3', 0));
    e.reconfigure({ scanTrigger: 2, windowMs: HOUR, maxSources: 1000 }, new NeverBlock([{ address: '198.18.0.4', family: 4, prefix: 32 }], []));
    assert.equal(e.assess(probe('198.18.0.4', 1)).kind, 'ignored');
    assert.equal(e.assess(probe('198.18.0.3', 2)).kind, 'triggered');
  });
});

describe('bounded memory', () => {
  it('tracks at most maxSources, evicting the least recently seen', () => {
    const e = engine(2, 16);
    for (let i = 0; i < 100; i++) e.assess(probe(`198.18.1.${i}`, i));
    assert.equal(e.stats().trackedSources, 16);
    assert.equal(e.stats().evictions, 84);
    // The newest 16 survive; an evicted source starts counting again.
    assert.equal(e.assess(probe('198.18.1.99', 200)).kind, 'triggered');
    assert.equal(e.assess(probe('198.18.1.0', 201)).kind, 'counted');
  });

  it('a source seen again moves to the back of the eviction queue', () => {
    const e = engine(3, 16);
    e.assess(probe('198.18.2.1', 0));
    for (let i = 0; i < 15; i++) e.assess(probe(`198.18.1.${i}`, 1 + i));
    e.assess(probe('198.18.2.1', 20)); // seen again: now the most recent
    e.assess(probe('198.18.3.1', 21)); // evicts the oldest, which is no longer 198.18.2.1
    assert.equal(e.assess(probe('198.18.2.1', 22)).kind, 'triggered');
  });

  it('a window reset also refreshes recency', () => {
    const e = engine(3, 16, 10);
    e.assess(probe('198.18.2.1', 0));
    for (let i = 0; i < 15; i++) e.assess(probe(`198.18.1.${i}`, 1 + i));
    e.assess(probe('198.18.2.1', 100)); // window lapsed: counts restart at 1, and it is the most recent
    e.assess(probe('198.18.3.1', 101));
    assert.deepEqual(e.assess(probe('198.18.2.1', 102)), { kind: 'counted', hits: 2, needed: 3 });
  });

  it('shrinking maxSources on reconfigure trims at once', () => {
    const e = engine(2, 100);
    for (let i = 0; i < 50; i++) e.assess(probe(`198.18.1.${i}`, i));
    e.reconfigure({ scanTrigger: 2, windowMs: HOUR, maxSources: 20 }, noIgnores);
    assert.equal(e.stats().trackedSources, 20);
  });
});

describe('BLOCK_RATE_PER_PREFIX: new blocks from one /24 or /64 are rate-limited', () => {
  const MINUTE = 60_000;
  const limited = (limit: number) => new DetectionEngine({ scanTrigger: 0, windowMs: HOUR, maxSources: 1000, blockRatePerPrefix: limit }, noIgnores);

  it('prefixOf names the IPv4 /24 and the IPv6 /64', async () => {
    const { prefixOf } = await import('../../../privileged-helper/engine/engine.js');
    assert.equal(prefixOf('198.18.0.77', 4), '198.18.0.0/24');
    assert.equal(prefixOf('fd00:5e::b', 6), 'fd00:5e::/64');
    assert.equal(prefixOf('fd00:5e:0:1:2:3:4:5', 6), 'fd00:5e:0:1::/64');
    assert.equal(prefixOf('::ff:1', 6), '::/64');
  });

  it('the limit a minute is granted, the next source of that /24 is refused, with one first hit per episode', () => {
    const e = limited(3);
    for (let i = 1; i <= 3; i += 1) assert.equal(e.assess(probe(`198.18.7.${i}`, 0)).kind, 'triggered');
    assert.deepEqual(e.assess(probe('198.18.7.4', 1)), { kind: 'rate-limited', prefix: '198.18.7.0/24', limit: 3, firstHit: true });
    assert.deepEqual(e.assess(probe('198.18.7.5', 2)), { kind: 'rate-limited', prefix: '198.18.7.0/24', limit: 3, firstHit: false });
    // Another /24 is not affected.
    assert.equal(e.assess(probe('198.18.8.1', 3)).kind, 'triggered');
    assert.equal(e.stats().rateLimited, 2);
  });

  it('the allowance refills with time (injected clock): a refused source is blocked on its next touch once there is room', () => {
    const e = limited(6);
    for (let i = 1; i <= 6; i += 1) assert.equal(e.assess(probe(`198.18.7.${i}`, 0)).kind, 'triggered');
    assert.equal(e.assess(probe('198.18.7.50', 0)).kind, 'rate-limited');
    // 10 s later one more block (6 a minute) is allowed: the refused source's next touch triggers.
    assert.equal(e.assess(probe('198.18.7.50', 9_999)).kind, 'rate-limited');
    assert.equal(e.assess(probe('198.18.7.50', 10_000)).kind, 'triggered');
    assert.equal(e.assess(probe('198.18.7.51', 10_001)).kind, 'rate-limited');
    // After a quiet minute the whole allowance is back, and a new episode logs again.
    for (let i = 60; i < 66; i += 1) assert.equal(e.assess(probe(`198.18.7.${i}`, 10_000 + MINUTE)).kind, 'triggered');
    const refusal = e.assess(probe('198.18.7.70', 10_000 + MINUTE));
    assert.ok(refusal.kind === 'rate-limited' && refusal.firstHit);
  });

  it('a block not made (paused, or the firewall failed) gives its allowance back: one scanner probing 300 ports while paused never hits the limit', () => {
    const e = limited(3);
    for (let port = 1; port <= 300; port += 1) {
      assert.equal(e.assess(probe('198.18.7.9', port, port)).kind, 'triggered', `probe ${port}`);
      e.abandonBlock('198.18.7.9');
    }
    assert.equal(e.stats().rateLimited, 0);
    for (let i = 1; i <= 3; i += 1) assert.equal(e.assess(probe(`198.18.7.${20 + i}`, 400)).kind, 'triggered');
    assert.equal(e.assess(probe('198.18.7.30', 400)).kind, 'rate-limited', 'blocks really made still count');
  });

  it('IPv6 sources are grouped per /64; other /64s are separate', () => {
    const e = limited(2);
    assert.equal(e.assess(probe('fd00:5e:0:1::1', 0)).kind, 'triggered');
    assert.equal(e.assess(probe('fd00:5e:0:1:ffff::2', 0)).kind, 'triggered');
    assert.equal(e.assess(probe('fd00:5e:0:1::3', 0)).kind, 'rate-limited');
    assert.equal(e.assess(probe('fd00:5e:0:2::3', 0)).kind, 'triggered');
  });

  it('0 is no limit; SCAN_TRIGGER counting still comes first', () => {
    const e = limited(0);
    for (let i = 1; i <= 200; i += 1) assert.equal(e.assess(probe(`198.18.7.${i}`, 0)).kind, 'triggered');
    const counting = new DetectionEngine({ scanTrigger: 2, windowMs: HOUR, maxSources: 1000, blockRatePerPrefix: 1 }, noIgnores);
    assert.equal(counting.assess(probe('198.18.7.1', 0)).kind, 'counted');
    assert.equal(counting.assess(probe('198.18.7.1', 1)).kind, 'triggered');
    assert.equal(counting.assess(probe('198.18.7.2', 2)).kind, 'counted');
    assert.equal(counting.assess(probe('198.18.7.2', 3)).kind, 'rate-limited');
  });
});
