// The monitor's parser: transactions by other processes that remove something from our
// table, read from real `nft monitor` lines (nft 1.0.6, recorded in a namespace).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MonitorParser, parseRemovals, type ForeignRemoval } from '../../../privileged-helper/firewall/nft-monitor.js';

function feed(lines: readonly string[], own: readonly number[] = []): ForeignRemoval[] {
  const heard: ForeignRemoval[] = [];
  const parser = new MonitorParser(
    'pstest',
    (pid) => own.includes(pid),
    (removal) => heard.push(removal),
  );
  for (const line of lines) parser.push(line);
  return heard;
}

const FLUSH_RULESET = [
  'delete rule inet pstest prerouting handle 3',
  'delete set inet pstest blocked4',
  'delete chain inet pstest prerouting',
  'delete table inet pstest',
  '# new generation 4 by process 8365 (nft)',
];

describe('nft monitor parser', () => {
  it('hears a flush of the ruleset as a structural removal, with who did it', () => {
    assert.deepEqual(feed(FLUSH_RULESET), [{ structure: true, elements: [], by: '8365 (nft)' }]);
  });

  it('skips the transactions of our own nft processes', () => {
    assert.deepEqual(feed(FLUSH_RULESET, [8365]), []);
  });

  it('hears blocks deleted one by one, with their element text', () => {
    const heard = feed(['delete element inet pstest blocked4 { 198.18.0.5 timeout 1h expires 59m59s688ms, 198.18.0.6 }', '# new generation 9 by process 12 (nft)']);
    assert.deepEqual(heard, [{ structure: false, elements: [{ set: 'blocked4', text: ' 198.18.0.5 timeout 1h expires 59m59s688ms, 198.18.0.6 ' }], by: '12 (nft)' }]);
  });

  it('ignores other tables, additions, and transactions that removed nothing', () => {
    const lines = [
      'add element inet pstest blocked4 { 198.18.0.5 }',
      '# new generation 5 by process 7 (nft)',
      'delete table inet pstest2',
      'delete table ip filter',
      '# new generation 6 by process 7 (iptables-nft)',
    ];
    assert.deepEqual(feed(lines), []);
  });

  it('parseRemovals tells structure from elements and keeps only our table', () => {
    assert.deepEqual(parseRemovals(['delete element inet pstest trap_ignore4 { 198.18.0.1 }', 'delete element inet other blocked4 { 198.18.0.2 }'], 'pstest'), {
      structure: false,
      elements: [{ set: 'trap_ignore4', text: ' 198.18.0.1 ' }],
    });
  });
});
