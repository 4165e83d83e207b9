// Checks of the app's own preferences (GuiPreferences), before they are saved.

import type { GuiPreferences } from '../../shared/desktop-api.js';

export interface PreferenceErrors {
  quietStart?: string;
  quietEnd?: string;
}

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

export function checkPreferences(prefs: GuiPreferences): PreferenceErrors {
  const errors: PreferenceErrors = {};
  if (!CLOCK.test(prefs.quietStart)) errors.quietStart = 'Enter a time as HH:MM (24-hour), e.g. 22:00.';
  if (!CLOCK.test(prefs.quietEnd)) errors.quietEnd = 'Enter a time as HH:MM (24-hour), e.g. 07:00.';
  return errors;
}

export function changedPreferences(before: GuiPreferences, after: GuiPreferences): Partial<GuiPreferences> {
  const changes: Record<string, unknown> = {};
  for (const key of Object.keys(after) as (keyof GuiPreferences)[]) if (after[key] !== before[key]) changes[key] = after[key];
  return changes as Partial<GuiPreferences>;
}
