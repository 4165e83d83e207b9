// The GUI preferences' shape in the two forms that check it: a JSON schema for electron-store
// (what is on disk) and a zod schema for changes a renderer sends (what crosses IPC). Both
// come from the same constants so they cannot disagree.

import { z } from 'zod';
import type { Schema } from 'electron-store';
import type { GuiPreferences } from '../shared/desktop-api.js';

export const THEMES = ['system', 'light', 'dark'] as const;
export const NOTIFICATION_LEVELS = ['all', 'blocks-only', 'off'] as const;
/** Local "HH:MM", 00:00 to 23:59. */
export const CLOCK_TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

export const PREFERENCE_DEFAULTS: GuiPreferences = {
  theme: 'system',
  notifications: 'all',
  quietStart: '22:00',
  quietEnd: '22:00', // equal = no quiet hours until the user picks some
  startAtLogin: false,
};

/** electron-store's `schema` option: one JSON schema per key (it wraps them in an object schema). */
export const PREFERENCES_JSON_SCHEMA: Schema<GuiPreferences> = {
  theme: { type: 'string', enum: [...THEMES], default: PREFERENCE_DEFAULTS.theme },
  notifications: { type: 'string', enum: [...NOTIFICATION_LEVELS], default: PREFERENCE_DEFAULTS.notifications },
  quietStart: { type: 'string', pattern: CLOCK_TIME_PATTERN, default: PREFERENCE_DEFAULTS.quietStart },
  quietEnd: { type: 'string', pattern: CLOCK_TIME_PATTERN, default: PREFERENCE_DEFAULTS.quietEnd },
  startAtLogin: { type: 'boolean', default: PREFERENCE_DEFAULTS.startAtLogin },
};

const clockTime = z.string().regex(new RegExp(CLOCK_TIME_PATTERN), 'must be a local time HH:MM');

/** A partial update from the settings page: known keys only, at least one. */
export const preferenceChangesSchema = z
  .strictObject({
    theme: z.enum(THEMES).optional(),
    notifications: z.enum(NOTIFICATION_LEVELS).optional(),
    quietStart: clockTime.optional(),
    quietEnd: clockTime.optional(),
    startAtLogin: z.boolean().optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, 'must change at least one preference');

export type PreferenceChanges = z.infer<typeof preferenceChangesSchema>;
