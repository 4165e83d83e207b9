import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventRecordSchema, toEventRecord } from '../../../shared/structured-log/event-record.js';

describe('structured event records (schema v1)', () => {
  it('a scan and a block become records with the documented field names, valid by the schema', () => {
    const scan = toEventRecord(
      { type: 'scan', at: Date.UTC(2026, 11, 7, 23, 0, 0, 5), source: '198.18.0.3', family: 4, port: 1, protocol: 'tcp', kind: 'syn', mode: 'atcp', action: 'blocked' },
      'target',
    );
    assert.deepEqual(scan, {
      v: 1,
      time: '2026-12-07T23:00:00.005Z',
      host: 'target',
      event: 'scan',
      source: '198.18.0.3',
      family: 4,
      port: 1,
      protocol: 'tcp',
      kind: 'syn',
      mode: 'atcp',
      action: 'blocked',
    });
    assert.deepEqual(eventRecordSchema.parse(scan), scan);
    const block = toEventRecord(
      { type: 'block', change: 'added', at: 0, address: 'fd00:5e::/64', reason: 'syn probe of TCP port 1', until: 3_600_000, fleet: { machine: 'hostB', scenario: 'portsentry/scan' } },
      'target',
    );
    assert.deepEqual(Object.keys(block), ['v', 'time', 'host', 'event', 'change', 'address', 'reason', 'until', 'fleetMachine', 'fleetScenario']);
    assert.equal(block.event === 'block' && block.until, '1970-01-01T01:00:00.000Z');
    assert.deepEqual(eventRecordSchema.parse(block), block);
  });

  it('refuses a record of another version or with a field it does not know the type of', () => {
    const scan = toEventRecord({ type: 'scan', at: 0, source: '198.18.0.3', family: 4, port: 1, protocol: 'tcp', kind: 'syn', mode: 'atcp', action: 'blocked' }, 'h');
    assert.equal(eventRecordSchema.safeParse({ ...scan, v: 2 }).success, false);
    assert.equal(eventRecordSchema.safeParse({ ...scan, port: '1' }).success, false);
  });
});
