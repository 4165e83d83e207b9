// Bounds and cleans every text the helper puts into an event, a stored row or a log line
// (block-failure reasons from chatty KILL_* commands, firewall errors, names): no control
// characters or line breaks (they could forge log lines), never longer than the protocol
// allows (a longer one would fail schema validation on every page that shows it). Pure.

import { MAX_HELPER_TEXT } from '../../shared/protocol/schemas.js';

/** The characters textSchema refuses (shared/protocol/schemas.ts). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** `text` with control characters and line breaks turned into single spaces, at most `max` long. */
export function cleanText(text: string, max: number = MAX_HELPER_TEXT): string {
  let clean = String(text).replace(CONTROL, ' ').replace(/ {2,}/g, ' ').trim();
  if (clean.length <= max) return clean;
  clean = clean.slice(0, Math.max(0, max - 1));
  // Never leave half of a surrogate pair at the cut.
  if (/[\ud800-\udbff]$/.test(clean)) clean = clean.slice(0, -1);
  return `${clean}…`;
}
