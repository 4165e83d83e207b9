// The GUI preferences (theme, notifications, quiet hours, start at login): their values,
// defaults and the zod schemas the IPC table uses for them. Main keeps them on disk
// (main/preferences.ts, electron-store, whose JSON schema main/preferences-schema.ts builds
// from the same constants); the settings window edits them through window.portsentry.

import { z } from 'zod';

export const THEMES = ['system', 'light', 'dark'] as const;
export const NOTIFICATION_LEVELS = ['all', 'blocks-only', 'off'] as const;
/** Local "HH:MM", 00:00 to 23:59. */
export const CLOCK_TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

const clockTime = z.string().regex(new RegExp(CLOCK_TIME_PATTERN), 'must be a local time HH:MM');

/** GUI-only preferences; the detection config is the helper's. */
export const guiPreferencesSchema = z.strictObject({
  theme: z.enum(THEMES),
  notifications: z.enum(NOTIFICATION_LEVELS),
  /** Quiet hours, local time "HH:MM"; equal start and end = none. */
  quietStart: clockTime,
  quietEnd: clockTime,
  startAtLogin: z.boolean(),
});
export type GuiPreferences = z.output<typeof guiPreferencesSchema>;

export const PREFERENCE_DEFAULTS: GuiPreferences = {
  theme: 'system',
  notifications: 'all',
  quietStart: '22:00',
  quietEnd: '22:00', // equal = no quiet hours until the user picks some
  startAtLogin: false,
};

/** A partial update from the settings page: known keys only, at least one. */
export const preferenceChangesSchema = guiPreferencesSchema.partial().refine((changes) => Object.keys(changes).length > 0, 'must change at least one preference');
export type PreferenceChanges = z.output<typeof preferenceChangesSchema>;
