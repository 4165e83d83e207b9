// The settings window speaks in its fields' labels: a sentence from the key table or from the
// helper ("SCAN_TRIGGER must be a whole number") is shown with the label the user sees
// ("Touches before acting must be a whole number"). The helper's own errors keep the key
// (logs, portsentryctl); only this window maps it. A key written as a command to type
// ("config set KILL_ROUTE=...") is left alone. Pure.

import { CONFIG_KEYS, CONFIG_KEY_NAMES, type ConfigKey } from '../../shared/domain/config-keys.js';

// Longest first, so BLOCK_TIMEOUT is not read as BLOCK_T... of a shorter key.
const KEY_PATTERN = new RegExp(`\\b(${[...CONFIG_KEY_NAMES].sort((a, b) => b.length - a.length).join('|')})\\b(="[^"]*")?(?!=)( [A-Za-z]+)?`, 'g');

/** `message` with each key replaced by its field's label. */
export function inLabelWords(message: string): string {
  return message.replace(KEY_PATTERN, (_whole, key: string, quotedValue: string | undefined, nextWord: string | undefined) => {
    const label = CONFIG_KEYS[key as ConfigKey].label;
    const value = quotedValue === undefined ? '' : ` set to ${quotedValue.slice(1)}`;
    // "a KILL_ROUTE command" -> "a Block command", not "a Block command command".
    const lastWord = label.split(' ').pop()?.toLowerCase();
    const next = nextWord === undefined || (value === '' && nextWord.trim().toLowerCase() === lastWord) ? '' : nextWord;
    return `“${label}”${value}${next}`;
  });
}

/** The labels of keys, for "Applied: ..." lines. */
export function labelsOf(keys: readonly string[]): string[] {
  return keys.map((key) => (Object.hasOwn(CONFIG_KEYS, key) ? CONFIG_KEYS[key as ConfigKey].label : key));
}
