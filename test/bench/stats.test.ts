import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, p95, quantile, round, summarize } from '../../bench/stats.js';

describe('bench stats', () => {
  it('takes the median of odd and even samples, in any order', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('interpolates p95 between closest ranks', () => {
    const values = Array.from({ length: 21 }, (_, i) => i); // 0..20
    assert.equal(p95(values), 19);
    assert.equal(quantile([10, 20], 0.95), 19.5);
    assert.equal(p95([7]), 7);
  });

  it('is NaN for no samples and refuses a quantile outside 0..1', () => {
    assert.ok(Number.isNaN(median([])));
    assert.throws(() => quantile([1], 1.5), RangeError);
  });

  it('summarizes finite samples only, null when none', () => {
    assert.deepEqual(summarize([2, Number.NaN, 4, Number.POSITIVE_INFINITY, 6]), { n: 3, median: 4, p95: 5.8, min: 2, max: 6 });
    assert.equal(summarize([]), null);
    assert.equal(summarize([Number.NaN]), null);
  });

  it('rounds for people', () => {
    assert.equal(round(1.23456, 3), 1.235);
    assert.equal(round(2.5), 2.5);
  });
});
