// GUI preferences on disk, through electron-store (JSON file, schema-validated on every
// read and write). electron-store is loaded lazily: it imports 'electron', which in plain
// Node resolves to the path of the Electron binary (or throws when the binary was never
// downloaded), and outside Electron it needs an absolute `cwd` because there is no
// app.getPath('userData') to default to. Tests pass a temp dir.

import { readFile, rename } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type ElectronStore from 'electron-store';
import type { GuiPreferences } from '../shared/desktop-api.js';
import { PREFERENCE_DEFAULTS, PREFERENCES_JSON_SCHEMA, preferenceChangesSchema, type PreferenceChanges } from './preferences-schema.js';

export interface PreferencesStore {
  readonly path: string;
  get(): GuiPreferences;
  /** Validates, writes and returns the full preferences; throws on an invalid change (nothing is written). */
  set(changes: PreferenceChanges): GuiPreferences;
  onChange(listener: (preferences: GuiPreferences) => void): () => void;
}

export interface OpenPreferencesOptions {
  /** Absolute directory of the JSON file: app.getPath('userData') in Electron, a temp dir in tests. */
  readonly cwd: string;
  readonly name?: string;
  /** Called when a file on disk failed validation and was moved aside. */
  readonly onReset?: (movedTo: string, reason: string) => void;
}

type Store = ElectronStore<GuiPreferences>;

export async function openPreferences(options: OpenPreferencesOptions): Promise<PreferencesStore> {
  // A relative cwd would be resolved against Electron's userData, which plain Node lacks.
  if (!isAbsolute(options.cwd)) throw new Error(`preferences directory must be absolute: ${options.cwd}`);
  const { default: Store } = await import('electron-store');
  const make = (): Store =>
    new Store<GuiPreferences>({
      name: options.name ?? 'preferences',
      cwd: options.cwd,
      schema: PREFERENCES_JSON_SCHEMA,
      defaults: PREFERENCE_DEFAULTS,
      // Not electron-store's silent reset: a bad file is moved aside below, so the user can see it.
      clearInvalidConfig: false,
      accessPropertiesByDotNotation: false,
    });
  let store: Store;
  try {
    store = make();
  } catch (error) {
    // Unparsable, or valid JSON that breaks the schema (hand-edited, or from a newer
    // version), or a file that is there but cannot be read: keep it for the user to inspect,
    // and start with the defaults rather than refusing to launch. Anything else (a full disk,
    // a directory that cannot be made) is not the file's fault: moving a good file aside
    // would lose the user's preferences, and renaming a file that is not there would hide
    // the real error behind ENOENT. Those are reported as they are.
    const file = join(options.cwd, `${options.name ?? 'preferences'}.json`);
    if (!(await mayMoveAside(error, file))) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const movedTo = `${file}.invalid-${Date.now()}`;
    await rename(file, movedTo);
    options.onReset?.(movedTo, reason);
    store = make();
  }
  return wrap(store);
}

/**
 * Whether the store's failure to open is the file's fault, so the file may be moved aside:
 * electron-store (conf) read it and found no JSON (SyntaxError) or JSON its schema refuses,
 * or the file is there but cannot be read at all (EACCES, EISDIR). A missing file, or a
 * readable one when the failure lies elsewhere, is never moved.
 */
export async function mayMoveAside(error: unknown, file: string): Promise<boolean> {
  if (error instanceof SyntaxError || (error instanceof Error && error.message.startsWith('Config schema violation:'))) return true;
  try {
    await readFile(file);
    return false;
  } catch (readError) {
    const code = (readError as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}

function wrap(store: Store): PreferencesStore {
  return {
    path: store.path,
    get: () => pick(store.store),
    set: (changes) => {
      const parsed = preferenceChangesSchema.parse(changes);
      // One write of the whole object: electron-store validates it before touching the file.
      store.store = { ...pick(store.store), ...parsed };
      return pick(store.store);
    },
    onChange: (listener) => store.onDidAnyChange((value) => listener(pick(value ?? PREFERENCE_DEFAULTS))),
  };
}

/** Only the known keys, whatever else a file may hold. */
function pick(value: Partial<GuiPreferences>): GuiPreferences {
  return {
    theme: value.theme ?? PREFERENCE_DEFAULTS.theme,
    notifications: value.notifications ?? PREFERENCE_DEFAULTS.notifications,
    quietStart: value.quietStart ?? PREFERENCE_DEFAULTS.quietStart,
    quietEnd: value.quietEnd ?? PREFERENCE_DEFAULTS.quietEnd,
    startAtLogin: value.startAtLogin ?? PREFERENCE_DEFAULTS.startAtLogin,
  };
}
