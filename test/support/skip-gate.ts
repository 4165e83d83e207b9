// A node --test reporter (npm test adds it beside the spec reporter): it collects every skipped
// or todo test and, under CI (the CI variable set, as .ci/run does), fails the run for each one
// the README's "Allowed skips" table does not list. Elsewhere it only names them, so a laptop
// without chromium still gets a green run it can read as partial.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllowedSkips, sourceFileOf, unexpectedSkips, type SkippedTest } from './allowed-skips.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface ReporterEvent {
  readonly type: string;
  readonly data?: { readonly name?: string; readonly file?: string; readonly skip?: string | boolean; readonly todo?: string | boolean };
}

export default async function* skipGate(source: AsyncIterable<ReporterEvent>): AsyncGenerator<string> {
  const skipped: SkippedTest[] = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, file, skip, todo } = event.data ?? {};
    if (name === undefined || file === undefined) continue;
    if (skip !== undefined && skip !== false) skipped.push({ file: sourceFileOf(file, ROOT), name, why: skip === true ? 'skipped' : skip });
    else if (todo !== undefined && todo !== false) skipped.push({ file: sourceFileOf(file, ROOT), name, why: todo === true ? 'todo' : `todo: ${todo}` });
  }
  if (skipped.length === 0) return;
  const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false';
  const readme = process.env.SKIP_GATE_README ?? `${ROOT}README.md`;
  let unexpected: SkippedTest[];
  try {
    unexpected = unexpectedSkips(skipped, parseAllowedSkips(readFileSync(readme, 'utf8')));
  } catch (error) {
    yield `skip gate: cannot read the allowed skips from ${readme}: ${(error as Error).message}\n`;
    if (inCi) process.exitCode = 1;
    return;
  }
  for (const skip of skipped) {
    const verdict = !unexpected.includes(skip) ? 'allowed (README)' : inCi ? 'NOT ALLOWED under CI' : 'not allowed under CI';
    yield `skip gate: ${skip.file} › ${skip.name} (${skip.why}): ${verdict}\n`;
  }
  if (inCi && unexpected.length > 0) {
    yield `skip gate: ${unexpected.length} skipped test(s) the README's "Allowed skips" does not list: the run fails\n`;
    process.exitCode = 1;
  }
}
