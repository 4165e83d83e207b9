import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRecordPorts, portRuns } from '../../../shared/domain/scan-record.js';

describe('scan record words', () => {
  it('portRuns: consecutive ports as runs, lowest first', () => {
    assert.equal(portRuns([]), '');
    assert.equal(portRuns([22]), '22');
    assert.equal(portRuns([1, 2, 3, 80, 443, 444, 31337]), '1-3,80,443-444,31337');
    assert.equal(portRuns(Array.from({ length: 1024 }, (_, i) => i + 1)), '1-1024');
  });

  it('describeRecordPorts: TCP then UDP, only the protocols touched', () => {
    assert.equal(describeRecordPorts({ ports: { tcp: [1, 2, 80], udp: [53] } }), 'TCP 1-2,80; UDP 53');
    assert.equal(describeRecordPorts({ ports: { tcp: [], udp: [161, 162] } }), 'UDP 161-162');
  });
});
