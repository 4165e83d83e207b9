import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repeatBlockSeconds } from '../../../privileged-helper/engine/repeat-offender.js';

const EXP = { factor: 1, formula: 'exponential' as const, maxSeconds: 604_800 };

describe('repeat offenders: how long the block lasts', () => {
  it("exponential (fail2ban's formula): doubles with each earlier block", () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((earlier) => repeatBlockSeconds(3600, earlier, EXP)),
      [3600, 7200, 14_400, 28_800],
    );
    assert.equal(repeatBlockSeconds(10, 2, { ...EXP, factor: 3 }), 120);
  });

  it('linear: base x (1 + factor x earlier)', () => {
    assert.deepEqual(
      [0, 1, 2].map((earlier) => repeatBlockSeconds(100, earlier, { ...EXP, formula: 'linear', factor: 2 })),
      [100, 300, 500],
    );
  });

  it('capped at the maximum (0: none), never shorter than the base, the exponent bounded', () => {
    assert.equal(repeatBlockSeconds(3600, 10, EXP), 604_800);
    assert.equal(repeatBlockSeconds(3600, 10, { ...EXP, maxSeconds: 0 }), 3600 * 1024);
    assert.equal(repeatBlockSeconds(3600, 1, { ...EXP, maxSeconds: 60 }), 3600);
    assert.equal(repeatBlockSeconds(1, 1000, { ...EXP, maxSeconds: 0 }), 2 ** 20);
  });

  it('off with factor 0, and a block without end stays without end', () => {
    assert.equal(repeatBlockSeconds(3600, 5, { ...EXP, factor: 0 }), 3600);
    assert.equal(repeatBlockSeconds(0, 5, EXP), 0);
  });
});
