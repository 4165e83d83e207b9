// What the settings form shows when the helper's values are read again (a reconnect, after
// Apply) while the user has edits not yet applied: a field the user changed keeps the user's
// value; every other field takes the helper's. Where the helper's own value of an edited
// field moved underneath (another window, portsentryctl, an edited file, a restart), the
// field says so: the user's value and the helper's now. Pure, for the tests.

export interface KeptEdits {
  /** What the form shows now. */
  readonly values: Readonly<Record<string, string>>;
  /** Edited fields whose helper value changed since the user started: key -> the helper's value now. */
  readonly movedUnderneath: ReadonlyMap<string, string>;
}

/**
 * `before`: the helper's values the form was filled from; `form`: what the form holds now;
 * `now`: the helper's values just read. A field is edited when the form differs from `before`.
 */
export function keepEdits(before: Readonly<Record<string, string>>, form: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): KeptEdits {
  const values: Record<string, string> = { ...now };
  const movedUnderneath = new Map<string, string>();
  for (const [key, mine] of Object.entries(form)) {
    if (mine === before[key] || !Object.hasOwn(now, key)) continue;
    values[key] = mine;
    const theirs = now[key]!;
    if (theirs !== before[key] && theirs !== mine) movedUnderneath.set(key, theirs);
  }
  return { values, movedUnderneath };
}
