// Small text rules every program applies the same way: how a fragment of someone else's text
// is shown inside an error message, and which characters may never reach a log line or a file.

/** C0/C1 controls and the Unicode line separators: each could forge an extra line in a log or file. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Shows a fragment of user text safely inside an error message. */
export function printable(text: string, max = 60): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
