// The README's setup commands, as the tests run them: the code block after a marker
// `<!-- fleet-readme: NAME -->`, its lines split into argument vectors (single quotes group
// words, as a shell would; nothing else of a shell is meant to be there), with the example
// addresses and paths replaced by the test's own. So the README cannot drift from what is tested.

import { readFileSync } from 'node:fs';

const README = new URL('../../../README.md', import.meta.url);

/** The lines of the code block after the marker (indentation removed). */
export function readmeBlock(name: string): string[] {
  const text = readFileSync(README, 'utf8');
  const marker = `<!-- fleet-readme: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README has no block ${marker}`);
  const lines = text.slice(at + marker.length).split('\n');
  const open = lines.findIndex((line) => line.trim().startsWith('```'));
  const close = lines.findIndex((line, i) => i > open && line.trim() === '```');
  return lines.slice(open + 1, close).map((line) => line.trim());
}

/** Each command line of a block as argv, with `replace` applied to every word. */
export function readmeCommands(name: string, replace: (word: string) => string): string[][] {
  return readmeBlock(name)
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => replace(m[1] ?? m[2]!)));
}

/** A replacer for each `from` -> `to` pair, applied in order. */
export function substitute(pairs: ReadonlyArray<readonly [string, string]>): (word: string) => string {
  return (word) => pairs.reduce((text, [from, to]) => text.split(from).join(to), word);
}
