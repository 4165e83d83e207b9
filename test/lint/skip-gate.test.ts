// The suite cannot go green by leaving tests out: under CI a skip the README does not allow fails
// `npm test` (test/support/skip-gate.ts as a real node --test reporter on a real test file), and
// every skip the README allows names a test that exists, so the list stays true.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseAllowedSkips, sourceFileOf, unexpectedSkips } from '../support/allowed-skips.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GATE = fileURLToPath(new URL('../support/skip-gate.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly output: string;
}

/** node --test on one file with the gate as its only reporter; CI set or not. */
function runGated(file: string, env: Record<string, string>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.CI === undefined) delete childEnv.CI;
  delete childEnv.NODE_TEST_CONTEXT; // the child is a run of its own, not a subtest of this one
  return new Promise((resolve) => {
    execFile(process.execPath, ['--test', `--test-reporter=${GATE}`, '--test-reporter-destination=stdout', file], { env: childEnv }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
}

describe('skip gate', () => {
  it('parses the table, refuses a row without a reason and a README without the section', () => {
    const readme =
      '# x\n### Allowed skips\ntext\n| file | test | why |\n| --- | --- | --- |\n| `test/a.test.ts` | `needs: a tool` | it is root-only |\n## Next\n| `test/b.test.ts` | `other` | not in the section |\n';
    assert.deepEqual(parseAllowedSkips(readme), [{ file: 'test/a.test.ts', name: 'needs: a tool', reason: 'it is root-only' }]);
    assert.throws(() => parseAllowedSkips('### Allowed skips\n| `test/a.test.ts` | `x` |  |\n'), /gives no reason/);
    assert.throws(() => parseAllowedSkips('# nothing here\n'), /no "### Allowed skips" section/);
    assert.equal(sourceFileOf('/repo/dist/test/main/x.test.js', '/repo'), 'test/main/x.test.ts');
    const skipped = [
      { file: 'test/a.test.ts', name: 'needs: a tool', why: 'no tool' },
      { file: 'test/a.test.ts', name: 'another', why: 'no tool' },
    ];
    assert.deepEqual(unexpectedSkips(skipped, parseAllowedSkips(readme)), [skipped[1]]);
  });

  it('every skip the README allows names a test in that file (the list stays true)', async () => {
    const allowed = parseAllowedSkips(await readFile(join(ROOT, 'README.md'), 'utf8'));
    for (const entry of allowed) {
      const source = await readFile(join(ROOT, entry.file), 'utf8');
      assert.ok(source.includes(`'${entry.name}'`), `${entry.file} has no test named '${entry.name}'`);
    }
  });

  it('under CI an unlisted skip (a test or a whole suite) or todo fails the run; outside CI it is named and passes; a listed skip passes under CI', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-skip-gate-'));
    try {
      const file = join(dir, 'fixture.test.mjs');
      await writeFile(
        file,
        [
          "import { describe, it } from 'node:test';",
          "it('runs', () => {});",
          "it('needs a tool', { skip: 'the tool is missing' }, () => {});",
          "describe('a suite', { skip: 'not root' }, () => { it('inside', () => {}); });",
          "it('later', { todo: 'not written' }, () => {});",
          '',
        ].join('\n'),
      );
      const none = join(dir, 'README.md');
      await writeFile(none, '### Allowed skips\n\n| file | test | why |\n| --- | --- | --- |\n');

      const ci = await runGated(file, { CI: 'true', SKIP_GATE_README: none });
      assert.notEqual(ci.code, 0, ci.output);
      for (const name of ['needs a tool', 'a suite', 'later']) assert.match(ci.output, new RegExp(`› ${name} \\(.*\\): NOT ALLOWED under CI`));
      assert.match(ci.output, /3 skipped test\(s\)/);

      const local = await runGated(file, { SKIP_GATE_README: none });
      assert.equal(local.code, 0, local.output);
      assert.match(local.output, /› needs a tool \(the tool is missing\): not allowed under CI/);

      const listed = join(dir, 'README-listed.md');
      const rows = ['needs a tool', 'a suite', 'later'].map((name) => `| \`${file}\` | \`${name}\` | a reason |`).join('\n');
      await writeFile(listed, `### Allowed skips\n\n| file | test | why |\n| --- | --- | --- |\n${rows}\n`);
      const allowed = await runGated(file, { CI: 'true', SKIP_GATE_README: listed });
      assert.equal(allowed.code, 0, allowed.output);
      assert.match(allowed.output, /› needs a tool \(the tool is missing\): allowed \(README\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
