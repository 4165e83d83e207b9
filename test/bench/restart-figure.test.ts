// The restart figure (bench/fig-restart.ts) calls a restart reconciled only when what it read
// back agrees: the kernel's element count, the ledger's count and the blocks stored, in every
// run; a short read-back is shown as reached, not as planned. Pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countSetElements, RECONCILED_LINE, restartRow, type RestartRun } from '../../bench/fig-restart.js';
import { renderReport } from '../../bench/report.js';
import type { BenchResults } from '../../bench/results.js';
import { analyseTargets } from '../../bench/targets.js';

const run = (kernelHeld: number, ledgerHeld: number | null, failed = 0): RestartRun => ({
  toBoundMs: 100,
  toReconciledMs: 900,
  toActiveMs: 950,
  kernelHeld,
  ledgerHeld,
  reapplied: ledgerHeld,
  adopted: 0,
  failed,
  peakRssMb: 300,
});

function results(restart: BenchResults['figures']['restart']): BenchResults {
  return {
    machine: { cpuModel: 'cpu', cores: 2, kernel: 'k', node: 'v24', nft: 'nftables', iptables: 'iptables', peer: 'peer', date: 'd' },
    quick: false,
    repetitions: 1,
    durationSeconds: 1,
    figures: { triggerToBlackhole: [], scanTypes: [], leak: [], scale: [], blockCost: [], memory: { engine: [], idle: [] }, startup: [], capturePath: [], restart },
    errors: {},
  };
}

describe('restart figure', () => {
  it('counts the elements of the named sets only', () => {
    const text = JSON.stringify({
      nftables: [
        { metainfo: {} },
        { table: { name: 'psbench' } },
        { set: { name: 'blocked6', elem: ['fd00:ff::1', 'fd00:ff::2'] } },
        { set: { name: 'blocked4', elem: [{ elem: { val: '198.18.0.1', timeout: 60 } }] } },
        { set: { name: 'trap_pardon4', elem: ['198.18.0.9'] } },
        { set: { name: 'blocked6_hosts' } },
      ],
    });
    assert.equal(countSetElements(text, ['blocked4', 'blocked6', 'blocked6_hosts']), 3);
    assert.equal(countSetElements('not json', ['blocked4']), 0);
  });

  it('is reconciled only when the kernel, the ledger and the store agree in every run', () => {
    assert.equal(restartRow(1000, 'helper restart (kernel sets kept)', [run(1000, 1000), run(1000, 1000)]).reconciled, true);
    // The kernel's read-back short of the plan (the ledger says all): not reconciled, and the count shown is the one reached.
    const short = restartRow(1000, 'helper restart (kernel sets kept)', [run(1000, 1000), run(640, 1000)]);
    assert.equal(short.reconciled, false);
    assert.equal(short.kernelHeld, 640);
    assert.equal(restartRow(1000, 'after reboot (kernel sets empty)', [run(1000, 999)]).reconciled, false);
    assert.equal(restartRow(1000, 'after reboot (kernel sets empty)', [run(1000, 1000, 2)]).reconciled, false);
    assert.equal(restartRow(1000, 'after reboot (kernel sets empty)', []).reconciled, false);
    assert.equal(restartRow(1000, 'helper restart (kernel sets kept)', [run(1000, 1000)], 'no line within 30 min').reconciled, false);
  });

  it('reads the helper\u2019s summary line', () => {
    const match = RECONCILED_LINE.exec('adminalert: blocks at start: 200000 re-applied from the store, 0 expired, 3 adopted from the firewall, 0 failed');
    assert.deepEqual(match?.slice(1).map(Number), [200000, 0, 3, 0]);
  });

  it('reports the read-back counts and the verdict', () => {
    const rows = [restartRow(200_000, 'helper restart (kernel sets kept)', [run(200_000, 200_000)]), restartRow(1_000_000, 'after reboot (kernel sets empty)', [run(812_000, 1_000_000)])];
    const report = renderReport(results(rows), analyseTargets(results(rows)));
    assert.match(report, /## 12\. Restart while holding many blocks/);
    assert.match(report, /\| 1000000 \| after reboot \(kernel sets empty\) \| 1 \|[^\n]*\| 812000 \| 1000000 \| 0 \| \*\*no\*\* \|/);
    assert.match(report, /Restart holding 200000 blocks, helper restart \(kernel sets kept\)[^\n]*: met\./);
    assert.match(report, /Restart holding 1000000 blocks[^\n]*the kernel holds 812000[^\n]*: \*\*not met\*\*\./);
    assert.match(report, /Figure 12: 200000 and 1000000 blocks/);
  });
});
