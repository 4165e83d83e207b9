import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spliceReadme } from '../../bench/report.js';

test('the README quotes the report between its bench markers, and nothing else changes', () => {
  const readme = 'intro\n<!-- bench:start -->\nold figures\n<!-- bench:end -->\nafter\n';
  assert.equal(spliceReadme(readme, '# title\n\nnew figures\n'), 'intro\n<!-- bench:start -->\nnew figures\n<!-- bench:end -->\nafter\n');
  assert.equal(spliceReadme('no markers\n', '# t\n\nx\n'), 'no markers\n');
});
