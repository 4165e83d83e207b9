// The benchmark's report says what it measured and what it left out: a first trigger after
// start that was never blocked is counted (and misses the target), capacity counts only what
// was read back from the kernel, and results.md states every exclusion (settle time, dropped
// warm-up samples, unequal loads, the per-/24 limit behind the flood's count). Pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefixLimitBound, statedExclusions } from '../../bench/exclusions.js';
import type { CapacityRow, FloodRow } from '../../bench/fig-hostile.js';
import type { ScaleRow } from '../../bench/fig-scale.js';
import { triggerRow } from '../../bench/fig-trigger.js';
import type { RawTriggerResult } from '../../bench/raw-packets.js';
import { renderReport } from '../../bench/report.js';
import type { BenchResults } from '../../bench/results.js';
import { analyseTargets } from '../../bench/targets.js';

const probe = (blackholeMs: number | null): RawTriggerResult => ({
  blackholeMs,
  lastAnsweredMs: blackholeMs === null ? null : blackholeMs - 0.1,
  answeredProbes: 1,
  probes: 10,
  meanIntervalMs: 0.1,
  triggerWallMs: 0,
});

function results(figures: Partial<BenchResults['figures']>): BenchResults {
  return {
    machine: { cpuModel: 'cpu', cores: 2, kernel: 'k', node: 'v24', nft: 'nftables', iptables: 'iptables', peer: 'peer', date: 'd' },
    quick: false,
    repetitions: 4,
    durationSeconds: 1,
    figures: { triggerToBlackhole: [], scanTypes: [], leak: [], scale: [], blockCost: [], memory: { engine: [], idle: [] }, startup: [], capturePath: [], ...figures },
    errors: {},
  };
}

const CAPACITY: CapacityRow = {
  setSize: 1_000_000,
  held: 1_000_000,
  heldAfterLoad: 999_995,
  plannedLoad: 999_995,
  newestBlocked: true,
  readBackSeconds: 20,
  bulkLoadSeconds: 4,
  kernelMb: 120,
  addOneMs: [1],
  addWhenFullFirstMs: 20,
  addWhenFullNextMs: [1],
  evicted: 10,
  backgroundReadSeconds: 100,
};

describe('honest figures', () => {
  it('counts a first trigger after start that was never blocked, and the target is then missed', () => {
    const row = triggerRow('ours', 'udp', 2, 4, { firsts: [probe(0.2), probe(null)], results: [0.2, 0.3, 0.2, 0.25].map(probe), handshakes: [], detect: [], respond: [] });
    assert.equal(row.firstNeverBlocked, 1);
    assert.equal(row.neverBlocked, 0);
    const report = renderReport(results({ triggerToBlackhole: [row] }), []);
    assert.match(report, /0 of 4; first after start: 1 of 2/);
    assert.match(report, /counted as never blocked \(ours -udp 1 of 2\)/);
    const line = analyseTargets(results({ triggerToBlackhole: [row] })).find((l) => l.includes('ours -udp'))!;
    assert.match(line, /\*\*not met\*\*/);
    assert.match(line, /1 of 2 first triggers after start/);
  });

  it('meets the capacity target only with a read-back count and the newest scanner in the set', () => {
    const verdict = (cap: CapacityRow) => analyseTargets(results({ capacity: cap })).find((l) => l.startsWith('- Capacity'))!;
    assert.match(verdict(CAPACITY), /read back from the kernel.*: met\.$/);
    const { heldAfterLoad: _unused, ...planned } = CAPACITY;
    assert.match(verdict(planned), /planned, not read back.*\*\*not met\*\*/);
    assert.match(verdict({ ...CAPACITY, held: 999_000 }), /\*\*not met\*\*/);
    assert.match(verdict({ ...CAPACITY, newestBlocked: false }), /\*\*not met\*\*/);
    assert.match(renderReport(results({ capacity: CAPACITY }), []), /read back from the kernel \(`nft -j list set`, 20 s for one read\), after the load \(999995 of the 999995 loaded\)/);
  });

  it('states the settle time, dropped warm-up samples, unequal loads and the per-/24 bound of the flood', () => {
    const flood: FloodRow = {
      sources: 100_000,
      offeredPerSecond: 10_000,
      sendSeconds: 10,
      reportedBlocked: 25_024,
      absorbedPerSecond: 2500,
      catchUpSeconds: 0.1,
      peakRssMb: 150,
      failedBlocks: 0,
      scannerAfterMs: 0.3,
    };
    assert.equal(prefixLimitBound(100_000), 25_024);
    const scaleRow = (detector: 'ours' | 'peer', sources: number, offeredPerSecond: number): ScaleRow => ({
      detector,
      sources,
      offeredPerSecond,
      sendSeconds: 1,
      blocked: sources,
      missed: 0,
      blockedPerSecond: sources,
      secondsToLastBlock: 1,
      daemonRssMb: null,
      daemonTreeRssMb: null,
    });
    const all = results({
      triggerToBlackhole: [triggerRow('peer', 'tcp', 1, 1, { firsts: [probe(3)], results: [probe(3)], handshakes: [], detect: [], respond: [] })],
      scale: [scaleRow('peer', 300, 1000), scaleRow('ours', 300, 1000), scaleRow('ours', 10_000, 20_000)],
      blockCost: [{ backend: 'nftables set (ours)', existingBlocks: 1000, bulkLoadSeconds: 0.1, addOneDaemonMs: null, addOneProcessMs: null, connectMs: null }],
      flood,
    });
    const text = statedExclusions(all).join('\n');
    assert.match(text, /300 ms of settle time before the first trigger/);
    assert.match(text, /same load \(300 sources at 1000\/s\) and the same clock/);
    assert.match(text, /Ours also runs at 10000 sources at 20000\/s, which the peer is not given/);
    assert.match(text, /first 10 connect samples of each series/);
    assert.match(text, /from 391 \/24s, so at most 25024 can be blocked.*25024 were/);
    const flooded = analyseTargets(all).find((l) => l.startsWith('- Flood'))!;
    assert.match(flooded, /25024 blocked of the 25024 the per-\/24 limit allows.*: met\.$/);
    assert.match(
      analyseTargets(results({ flood: { ...flood, reportedBlocked: 20_000 } })).find((l) => l.startsWith('- Flood'))!,
      /\*\*not met\*\*/,
    );
    assert.match(renderReport(all, []), /## What the figures leave out, and unequal loads/);
  });
});
