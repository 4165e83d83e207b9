// The config keys that hold secrets, and their redaction: config.get shows that a secret is
// set, never what it is (the settings window and `portsentryctl config get` are read by
// operators who may not know root's credentials). Pure text work.

import { SECRET_KEYS } from '../../shared/domain/config-keys.js';

export { SECRET_KEYS };
/** What a set secret looks like from outside. Refused as a new value, so it never overwrites one. */
export const REDACTED = '(secret, set)';

/** Values with each non-empty secret replaced. */
export function redactValues(values: Readonly<Record<string, string>>): Record<string, string> {
  const out = { ...values };
  for (const key of SECRET_KEYS) if ((out[key] ?? '') !== '') out[key] = REDACTED;
  return out;
}

/** The config file's text with the value of every secret key line replaced. */
export function redactConfigText(text: string): string {
  const keys = SECRET_KEYS.join('|');
  // KEY = "value" (quotes optional), as conf-file.ts reads it; anything after the key is the
  // value. Commented-out lines too: an old secret left in a comment is still a secret.
  return text.replace(new RegExp(`^(\\s*(?:#\\s*)?(?:${keys})\\s*=\\s*)(.*)$`, 'gm'), (_line, head: string, value: string) =>
    value.trim() === '' || value.trim() === '""' ? `${head}${value}` : `${head}"${REDACTED}"`,
  );
}

/** True when a change would write the redaction marker in place of a secret. */
export function writesRedactedSecret(changes: Readonly<Record<string, string>>): string | null {
  for (const key of SECRET_KEYS) if (changes[key] === REDACTED) return key;
  return null;
}
