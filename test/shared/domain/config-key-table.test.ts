// "Declared once" made concrete: a key added to the table in shared/domain/config-keys.ts, and
// nowhere else, is parsed and range-checked by the helper's config reader, judged and
// classified by what the control channel runs for config.set, and shown and checked by the
// settings window. The test adds one to a copy of the compiled tree (the helper's and the
// renderer's builds) and asks each consumer, in a child process, what it makes of it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const DIST = fileURLToPath(new URL('../../../', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../../../node_modules', import.meta.url));
const ANCHOR = '    EVENT_RETENTION_DAYS: key(';
const NEW_KEY = `    PROBE_GRACE: key({ field: 'probeGrace', parse: integer(1, 9), defaultText: '3', access: 'operator', group: 'detection', widget: 'text', label: 'Probe grace', hint: 'Added by a test.' }),\n`;

describe('a config key declared once', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portsentry-keytable-'));
    for (const part of ['shared', 'privileged-helper', 'renderer']) await cp(join(DIST, part), join(dir, 'dist', part), { recursive: true });
    await symlink(NODE_MODULES, join(dir, 'node_modules'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
    for (const table of ['dist/shared/domain/config-keys.js', 'dist/renderer/shared/domain/config-keys.js']) {
      const path = join(dir, table);
      const text = await readFile(path, 'utf8');
      assert.ok(text.includes(ANCHOR), `${table} has the table`);
      await writeFile(path, text.replace(ANCHOR, NEW_KEY + ANCHOR));
    }
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('is parsed by the helper, checked and classified for config.set, and shown by the settings window', async () => {
    const probe = `
      import { parseConfig } from './dist/privileged-helper/config/config.js';
      import { checkKeyValue, operatorMayChange } from './dist/shared/domain/config-keys.js';
      import { FIELDS_BY_KEY, checkValue } from './dist/renderer/renderer/settings/config-rules.js';
      const out = {};
      out.helperDefault = parseConfig('', 'a.conf').probeGrace;
      out.helperValue = parseConfig('PROBE_GRACE="7"\\n', 'a.conf').probeGrace;
      try { parseConfig('PROBE_GRACE="12"\\n', 'a.conf'); } catch (e) { out.helperError = e.message; }
      out.channelError = checkKeyValue('PROBE_GRACE', 'x');
      out.channelOperator = operatorMayChange('PROBE_GRACE');
      const field = FIELDS_BY_KEY.get('PROBE_GRACE');
      out.windowLabel = field && field.label;
      out.windowGroup = field && field.group;
      out.windowError = checkValue('PROBE_GRACE', '0');
      console.log(JSON.stringify(out));
    `;
    await writeFile(join(dir, 'probe.mjs'), probe);
    const { stdout } = await run(process.execPath, [join(dir, 'probe.mjs')], { cwd: dir });
    assert.deepEqual(JSON.parse(stdout), {
      helperDefault: 3,
      helperValue: 7,
      helperError: 'a.conf:1: PROBE_GRACE must be between 1 and 9, not 12',
      channelError: 'PROBE_GRACE must be a whole number, not "x"',
      channelOperator: true,
      windowLabel: 'Probe grace',
      windowGroup: 'detection',
      windowError: 'PROBE_GRACE must be between 1 and 9, not 0',
    });
  });
});

describe('README\'s "Who may do what"', () => {
  it('names every key in the row of the caller who may change it, as the table declares', async () => {
    const { CONFIG_KEYS, CONFIG_KEY_NAMES } = await import('../../../shared/domain/config-keys.js');
    const readme = await readFile(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');
    const row = (start: string) => {
      const line = readme.split('\n').find((text) => text.startsWith(start));
      assert.ok(line !== undefined, `README has the row "${start}"`);
      return [...line.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]).sort();
    };
    const of = (access: string) => CONFIG_KEY_NAMES.filter((name) => CONFIG_KEYS[name].access === access).sort();
    assert.deepEqual(row('| detection tunables:'), of('operator'));
    assert.deepEqual(row('| what names a program'), of('root'));
  });
});
