// The GUI preferences' JSON schema for electron-store (what is on disk), built from the
// constants of shared/gui-preferences.ts, whose zod schemas check what crosses IPC, so the
// two cannot disagree.

import type { Schema } from 'electron-store';
import { CLOCK_TIME_PATTERN, NOTIFICATION_LEVELS, PREFERENCE_DEFAULTS, THEMES, type GuiPreferences } from '../shared/gui-preferences.js';

export { PREFERENCE_DEFAULTS, preferenceChangesSchema, type PreferenceChanges } from '../shared/gui-preferences.js';

/** electron-store's `schema` option: one JSON schema per key (it wraps them in an object schema). */
export const PREFERENCES_JSON_SCHEMA: Schema<GuiPreferences> = {
  theme: { type: 'string', enum: [...THEMES], default: PREFERENCE_DEFAULTS.theme },
  notifications: { type: 'string', enum: [...NOTIFICATION_LEVELS], default: PREFERENCE_DEFAULTS.notifications },
  quietStart: { type: 'string', pattern: CLOCK_TIME_PATTERN, default: PREFERENCE_DEFAULTS.quietStart },
  quietEnd: { type: 'string', pattern: CLOCK_TIME_PATTERN, default: PREFERENCE_DEFAULTS.quietEnd },
  startAtLogin: { type: 'boolean', default: PREFERENCE_DEFAULTS.startAtLogin },
};
