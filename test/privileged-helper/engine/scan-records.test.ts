import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCAN_GAP_MS, ScanRecords } from '../../../privileged-helper/engine/scan-records.js';
import { MAX_RECORD_PORTS } from '../../../shared/domain/scan-record.js';
import type { Probe, Protocol, ScanKind } from '../../../shared/domain/types.js';
import { messages } from '../../../privileged-helper/reporters/messages.js';

function probe(at: number, port: number, protocol: Protocol = 'tcp', kind: ScanKind = 'syn', source = '198.18.0.7'): Probe {
  return { source, family: 4, port, protocol, kind, mode: protocol === 'tcp' ? 'atcp' : 'audp', at };
}

describe('scan records: one per scan', () => {
  it('folds a scan: first and last probe, ports per protocol, kinds, probes, the strongest outcome', () => {
    const r = new ScanRecords(100);
    r.note('198.18.0.7', probe(10, 445), 'watched');
    r.note('198.18.0.7', probe(20, 22, 'tcp', 'fin'), 'watched');
    r.note('198.18.0.7', probe(15, 161, 'udp', 'udp'), 'watched');
    r.settle('198.18.0.7', 'blocked');
    r.note('198.18.0.7', probe(30, 22), 'reported'); // weaker: the record stays "blocked"
    assert.deepEqual(r.takeChanged(), [
      {
        id: '198.18.0.7@10',
        scanner: '198.18.0.7',
        family: 4,
        firstProbe: 10,
        lastProbe: 30,
        ports: { tcp: [22, 445], udp: [161] },
        kinds: ['fin', 'syn', 'udp'],
        protocols: ['tcp', 'udp'],
        probes: 4,
        outcome: 'blocked',
      },
    ]);
    assert.deepEqual(r.takeChanged(), [], 'each change is handed out once');
    assert.equal(r.startedCount, 1);
  });

  it('a probe after a longer quiet than SCAN_GAP_MS starts a new record', () => {
    const r = new ScanRecords(100);
    r.note('198.18.0.7', probe(0, 1), 'blocked');
    r.note('198.18.0.7', probe(SCAN_GAP_MS, 2), 'watched');
    assert.equal(r.takeChanged()[0]?.id, '198.18.0.7@0');
    r.note('198.18.0.7', probe(2 * SCAN_GAP_MS + 1, 3), 'watched');
    const [next] = r.takeChanged();
    assert.deepEqual([next?.id, next?.probes, next?.outcome, next?.ports.tcp], [`198.18.0.7@${2 * SCAN_GAP_MS + 1}`, 1, 'watched', [3]]);
    assert.equal(r.startedCount, 2);
  });

  it('memory is bounded: sources beyond the limit are forgotten least recently active first, ports per record capped', () => {
    const r = new ScanRecords(2);
    r.note('198.18.0.1', probe(0, 1, 'tcp', 'syn', '198.18.0.1'), 'watched');
    r.note('198.18.0.2', probe(1, 1, 'tcp', 'syn', '198.18.0.2'), 'watched');
    r.note('198.18.0.3', probe(2, 1, 'tcp', 'syn', '198.18.0.3'), 'watched');
    assert.deepEqual(
      r.takeChanged().map((record) => record.scanner),
      ['198.18.0.2', '198.18.0.3'],
    );
    r.settle('198.18.0.1', 'blocked'); // forgotten: nothing to settle
    assert.deepEqual(r.takeChanged(), []);
    const wide = new ScanRecords(2);
    for (let port = 1; port <= MAX_RECORD_PORTS + 10; port += 1) wide.note('198.18.0.9', probe(port, port), 'watched');
    const [record] = wide.takeChanged();
    assert.equal(record?.ports.tcp.length, MAX_RECORD_PORTS);
    assert.equal(record?.probes, MAX_RECORD_PORTS + 10);
  });

  it('takeChanged(limit) hands out at most limit records; the rest wait for the next call, none lost, none twice', () => {
    const r = new ScanRecords(100);
    for (let i = 1; i <= 5; i += 1) r.note(`198.18.0.${i}`, probe(i, 1, 'tcp', 'syn', `198.18.0.${i}`), 'watched');
    const first = r.takeChanged(2).map((record) => record.scanner);
    r.note('198.18.0.1', probe(9, 2, 'tcp', 'syn', '198.18.0.1'), 'watched'); // changed again after it was taken
    const second = r.takeChanged(2).map((record) => record.scanner);
    const rest = r.takeChanged(2).map((record) => record.scanner);
    assert.deepEqual(first, ['198.18.0.1', '198.18.0.2']);
    assert.deepEqual(second, ['198.18.0.3', '198.18.0.4']);
    assert.deepEqual(rest, ['198.18.0.5', '198.18.0.1']);
    assert.deepEqual(r.takeChanged(2), []);
  });

  it('a record says why a scan is not blocked, the latest word, and nothing once it is blocked', () => {
    const r = new ScanRecords(100);
    r.note('198.18.0.7', probe(0, 445), 'watched', 'a neighbour on this link touching SMB');
    assert.equal(r.takeChanged()[0]?.reason, 'a neighbour on this link touching SMB');
    r.settle('198.18.0.7', 'reported', 'report only (BLOCK_TCP=0)');
    const [reported] = r.takeChanged();
    assert.deepEqual([reported?.outcome, reported?.reason], ['reported', 'report only (BLOCK_TCP=0)']);
    r.settle('198.18.0.7', 'reported', 'report only (BLOCK_TCP=0)');
    assert.deepEqual(r.takeChanged(), [], 'the same word again is no change');
    r.settle('198.18.0.7', 'blocked');
    const [blocked] = r.takeChanged();
    assert.equal(blocked?.outcome, 'blocked');
    assert.equal('reason' in blocked!, false);
  });

  it('a decided scan is summarized once (SCAN_SUMMARY_LOG), a watched one not at all', () => {
    const r = new ScanRecords(100);
    r.note('198.18.0.7', probe(0, 445), 'watched');
    assert.deepEqual(r.takeSummaries(), []);
    r.note('198.18.0.7', probe(1, 22), 'blocked');
    const [summary] = r.takeSummaries();
    assert.deepEqual([summary?.scanner, summary?.probes, summary?.outcome], ['198.18.0.7', 2, 'blocked']);
    assert.equal(
      messages.scanSummary(summary!),
      'attackalert: Scan summary: host 198.18.0.7: 2 probes (syn) to TCP ports 22,445 between 1970-01-01T00:00:00.000Z and 1970-01-01T00:00:00.001Z: blocked',
    );
    r.note('198.18.0.7', probe(2, 23), 'blocked');
    assert.deepEqual(r.takeSummaries(), [], 'one line per scan');
  });
});
