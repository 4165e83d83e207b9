import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoveryKind, judgeDiscovery, sweepWords } from '../../../privileged-helper/engine/host-discovery.js';
import { ScanRecords } from '../../../privileged-helper/engine/scan-records.js';

describe('host discovery: what counts as a sweep', () => {
  it('requests only: ICMP echo, timestamp and address mask, ICMPv6 echo; never replies, errors or neighbour discovery', () => {
    assert.equal(discoveryKind(4, 8), 'icmp-echo');
    assert.equal(discoveryKind(4, 13), 'icmp-timestamp');
    assert.equal(discoveryKind(4, 17), 'icmp-mask');
    assert.equal(discoveryKind(6, 128), 'icmp-echo');
    for (const type of [0, 3, 5, 11, 14, 18]) assert.equal(discoveryKind(4, type), null, `ICMP type ${type}`);
    for (const type of [1, 2, 3, 4, 129, 133, 134, 135, 136, 8, 13]) assert.equal(discoveryKind(6, type), null, `ICMPv6 type ${type}`);
  });

  it("an on-link neighbour's echo is silent; off-link echoes, timestamps and masks from anyone get what HOST_DISCOVERY asks", () => {
    assert.equal(judgeDiscovery('icmp-echo', true, 'report'), 'silent');
    assert.equal(judgeDiscovery('icmp-echo', true, 'block'), 'silent');
    assert.equal(judgeDiscovery('icmp-echo', false, 'report'), 'report');
    assert.equal(judgeDiscovery('icmp-echo', false, 'block'), 'block');
    for (const kind of ['icmp-timestamp', 'icmp-mask'] as const) {
      assert.equal(judgeDiscovery(kind, true, 'report'), 'report');
      assert.equal(judgeDiscovery(kind, true, 'block'), 'block');
      assert.equal(judgeDiscovery(kind, false, 'off'), 'silent');
    }
    assert.equal(judgeDiscovery('icmp-echo', false, 'off'), 'silent');
  });

  it('names the sweep in the log as 1.2 names a scan', () => {
    assert.equal(sweepWords('icmp-echo', 4), 'ICMP echo sweep');
    assert.equal(sweepWords('icmp-echo', 6), 'ICMPv6 echo sweep');
    assert.equal(sweepWords('icmp-timestamp', 4), 'ICMP timestamp sweep');
    assert.equal(sweepWords('icmp-mask', 4), 'ICMP address mask sweep');
  });

  it("a sweep and the same scanner's port probes are one scan record: kinds of both, ports of the probes only", () => {
    const records = new ScanRecords(16);
    records.noteDiscovery('198.19.1.10', { at: 1000, family: 4, kind: 'icmp-timestamp' }, 'reported');
    records.note('198.19.1.10', { source: '198.19.1.10', family: 4, port: 443, protocol: 'tcp', kind: 'syn', mode: 'stcp', at: 1500 }, 'watched');
    const [record] = records.takeChanged();
    assert.deepEqual(record?.kinds, ['icmp-timestamp', 'syn']);
    assert.deepEqual(record?.ports, { tcp: [443], udp: [] });
    assert.equal(record?.probes, 2);
    assert.equal(record?.outcome, 'reported');
    assert.equal(record?.firstProbe, 1000);
  });
});
