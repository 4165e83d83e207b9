// Quiet hours: local "HH:MM" start and end, possibly wrapping midnight (22:00-07:00).

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since local midnight of "HH:MM", or null when the text is not a valid time. */
export function parseClockTime(text: string): number | null {
  const match = HHMM.exec(text);
  if (match === null) return null;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Minutes since local midnight at an instant (the machine's time zone, as the user sees it). */
export function localMinutesOfDay(epochMs: number): number {
  const date = new Date(epochMs);
  return date.getHours() * 60 + date.getMinutes();
}

/**
 * Whether `minutes` (since local midnight) falls in [start, end). Equal start and end mean no
 * quiet hours; an invalid time also means none, so a bad preference never silences alerts.
 */
export function inQuietHours(minutes: number, start: string, end: string): boolean {
  const from = parseClockTime(start);
  const to = parseClockTime(end);
  if (from === null || to === null || from === to) return false;
  return from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}
