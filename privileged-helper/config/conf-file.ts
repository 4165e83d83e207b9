// Reads the classic portsentry.conf syntax into key/value entries with their line numbers.
// Syntax as PortSentry 1.2 accepts it: `KEY="value"` or `KEY = "value"`, one per line,
// `#` comments, blank lines. We are stricter than the original where it silently skipped
// or guessed (missing quotes, unknown keys, keys set twice): each is an error naming the line.

import { printable } from '../../shared/domain/text.js';

export { printable };

export interface ConfEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(line === null ? `${file}: ${detail}` : `${file}:${line}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const MAX_LINE = 4096;
const ENTRY = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** Splits the file into entries; throws ConfigError on the first malformed line. */
export function parseConfText(text: string, file: string): ConfEntry[] {
  const entries: ConfEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.length > MAX_LINE) throw new ConfigError(file, line, `line is longer than ${MAX_LINE} characters`);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = ENTRY.exec(raw);
    if (match === null) {
      throw new ConfigError(file, line, `expected KEY="value", found: ${printable(trimmed)}`);
    }
    const key = match[1] as string;
    const value = parseQuotedValue(match[2] as string, key, file, line);
    const first = seen.get(key);
    if (first !== undefined) throw new ConfigError(file, line, `${key} is set twice (first on line ${first})`);
    seen.set(key, line);
    entries.push({ key, value, line });
  });
  return entries;
}

function parseQuotedValue(rest: string, key: string, file: string, line: number): string {
  const text = rest.trimEnd();
  if (!text.startsWith('"')) {
    throw new ConfigError(file, line, `the value of ${key} must be in double quotes, e.g. ${key}="${printable(text)}"`);
  }
  const close = text.indexOf('"', 1);
  if (close === -1) throw new ConfigError(file, line, `the value of ${key} has no closing double quote`);
  const value = text.slice(1, close);
  const after = text.slice(close + 1).trim();
  if (after !== '' && !after.startsWith('#')) {
    throw new ConfigError(file, line, `unexpected text after the value of ${key}: ${printable(after)}`);
  }
  // The original stops a value at the first unprintable character; we refuse it instead,
  // because a tab or control character inside a value is almost always a paste accident.
  if (/[^\x20-\x7e]/.test(value)) {
    throw new ConfigError(file, line, `the value of ${key} contains a control or non-ASCII character`);
  }
  return value;
}
