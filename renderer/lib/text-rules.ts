// Rules for text a user types that the helper will store (block reasons, ignore comments),
// the same as shared/protocol/schemas.ts textSchema: bounded, and no control characters or
// line breaks, which could forge extra lines in logs and files.

export const MAX_USER_TEXT = 200;
/** The longest timed block the helper accepts (schemas.ts MAX_BLOCK_TIMEOUT_SECONDS). */
export const MAX_BLOCK_TIMEOUT_SECONDS = 31_536_000;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** An error sentence, or null when the text may be sent. */
export function checkUserText(text: string, max = MAX_USER_TEXT): string | null {
  if (text.length > max) return `is too long (at most ${max} characters)`;
  if (CONTROL.test(text)) return 'must not contain control characters or line breaks';
  return null;
}

/** Shows a fragment of user text safely inside an error message (as conf-file.ts printable). */
export function printable(text: string, max = 60): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
