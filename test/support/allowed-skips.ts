// Which skipped tests CI accepts: the README's "Allowed skips" table is the one list, and a
// skip (or todo) not in it fails the run under CI, so a missing tool cannot turn the suite
// green by leaving tests out. Pure: the reporter (skip-gate.ts) reads the files.

export interface AllowedSkip {
  readonly file: string; // as in the source tree: test/main/x.test.ts
  readonly name: string; // the skipped test's or suite's own name
  readonly reason: string;
}

export interface SkippedTest {
  readonly file: string;
  readonly name: string;
  readonly why: string; // the skip message, or "todo"
}

export const ALLOWED_SKIPS_HEADING = '### Allowed skips';

/** The rows of the README's table under ALLOWED_SKIPS_HEADING: | `file` | `name` | reason |. */
export function parseAllowedSkips(readme: string): AllowedSkip[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => line.trim() === ALLOWED_SKIPS_HEADING);
  if (start < 0) throw new Error(`README has no "${ALLOWED_SKIPS_HEADING}" section`);
  const allowed: AllowedSkip[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,3} /.test(line)) break;
    const row = /^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$/.exec(line);
    if (row === null) continue;
    const [, file, name, reason] = row as unknown as [string, string, string, string];
    if (reason === '') throw new Error(`README: allowed skip ${file} › ${name} gives no reason`);
    allowed.push({ file, name, reason });
  }
  return allowed;
}

/** A test file as the runner names it (dist/test/x.test.js, absolute) to its source (test/x.test.ts). */
export function sourceFileOf(runnerFile: string, root: string): string {
  const base = root.endsWith('/') ? root : `${root}/`;
  const relative = runnerFile.startsWith(base) ? runnerFile.slice(base.length) : runnerFile;
  return relative.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

/** The skips the list does not allow. */
export function unexpectedSkips(skipped: readonly SkippedTest[], allowed: readonly AllowedSkip[]): SkippedTest[] {
  return skipped.filter((skip) => !allowed.some((entry) => entry.file === skip.file && entry.name === skip.name));
}
