// Edits to portsentry.conf text that keep the admin's file as it was (comments, order,
// spacing) and change only the keys asked for. Pure; the caller validates the result by
// parsing it in full before anything is written.

import { parseConfText } from './conf-file.js';

const ENTRY = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$/;

/** Returns the new text with each KEY set to "value" (replaced in place, or appended). */
export function applyConfigChanges(text: string, changes: Readonly<Record<string, string>>): string {
  const lines = text.split('\n');
  const pending = new Map(Object.entries(changes));
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim().startsWith('#')) continue;
    const match = ENTRY.exec(line);
    if (match === null) continue;
    const key = match[2]!;
    const value = pending.get(key);
    if (value === undefined) continue;
    lines[i] = `${match[1]}${key}${match[3]}"${value}"`;
    pending.delete(key);
  }
  if (pending.size > 0) {
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    for (const [key, value] of pending) lines.push(`${key}="${value}"`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The value of each key the text sets, as written. */
export function configValues(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const entry of parseConfText(text, file)) values[entry.key] = entry.value;
  return values;
}

/** Keys whose value differs between two texts. */
export function changedKeys(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => before[key] !== after[key]).sort();
}
