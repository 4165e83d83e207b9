// Rules for text a user types that the helper will store (block reasons, ignore comments),
// the same as shared/protocol/schemas.ts textSchema: bounded, and no control characters or
// line breaks, which could forge extra lines in logs and files.

import { CONTROL_CHARACTERS as CONTROL } from '../../shared/domain/text.js';

export { printable } from '../../shared/domain/text.js';

export const MAX_USER_TEXT = 200;
/** The longest timed block the helper accepts (schemas.ts MAX_BLOCK_TIMEOUT_SECONDS). */
export const MAX_BLOCK_TIMEOUT_SECONDS = 31_536_000;

/** An error sentence, or null when the text may be sent. */
export function checkUserText(text: string, max = MAX_USER_TEXT): string | null {
  if (text.length > max) return `is too long (at most ${max} characters)`;
  if (CONTROL.test(text)) return 'must not contain control characters or line breaks';
  return null;
}
