// Every helper config key as the settings window shows and checks it, derived from the one
// key table the helper itself parses with (shared/domain/config-keys.ts): the same parsers,
// ranges, defaults and sentences, and the same rule for who may change a key. Values typed
// here are checked as the control channel will check them (no shell in a template).

import {
  CONFIG_KEYS,
  CONFIG_KEY_NAMES,
  crossKeyError,
  checkKeyValue,
  resolveBlockBackend,
  rootOnlyReason,
  type BlockBackendName,
  type ConfigKey,
  type FieldGroup,
  type FieldWidget,
  type KeyAccess,
} from '../../shared/domain/config-keys.js';

export type { FieldGroup, FieldWidget } from '../../shared/domain/config-keys.js';

export interface ConfigField {
  readonly key: ConfigKey;
  readonly label: string;
  readonly hint: string;
  readonly group: FieldGroup;
  readonly widget: FieldWidget;
  /** Operators (this app's user) may change it, or only root. */
  readonly access: KeyAccess;
  /** The value the helper uses when the file leaves the key out, as it would be written. */
  readonly defaultValue: string;
  /** Null when valid, else the helper's own sentence. */
  readonly check: (value: string) => string | null;
}

/** What the protocol lets through at all (schemas.ts configValueSchema). */
export const MAX_CONFIG_VALUE = 4096;

export const CONFIG_FIELDS: readonly ConfigField[] = CONFIG_KEY_NAMES.map((key) => {
  const definition = CONFIG_KEYS[key];
  return {
    key,
    label: definition.label,
    hint: definition.hint,
    group: definition.group,
    widget: definition.widget,
    access: definition.access,
    defaultValue: definition.defaultText,
    check: (value: string) => checkKeyValue(key, value),
  };
});

export const FIELDS_BY_KEY: ReadonlyMap<string, ConfigField> = new Map(CONFIG_FIELDS.map((f) => [f.key, f]));

/** Why a root-only key is read-only here, in the sentence the helper would refuse it with. */
export function readOnlyReason(key: ConfigKey, mainConfigFile: string | null): string {
  return rootOnlyReason(key, mainConfigFile);
}

/** The protocol's own limit on any value: printable ASCII, no double quote, bounded. */
export function checkTransportable(value: string): string | null {
  if (value.length > MAX_CONFIG_VALUE) return `is longer than ${MAX_CONFIG_VALUE} characters`;
  if (!/^[\x20\x21\x23-\x7e]*$/.test(value)) return 'may hold only printable ASCII characters, without double quotes';
  return null;
}

/** One key's error, or null. */
export function checkValue(key: string, value: string): string | null {
  const spec = FIELDS_BY_KEY.get(key);
  if (spec === undefined) return `unknown key ${key}`;
  const transport = checkTransportable(value);
  if (transport !== null) return `${key} ${transport}`;
  return spec.check(value);
}

/**
 * Errors of a whole set of effective values, by key: each key alone, then the rules that
 * tie keys together (the same as the helper's). `values` holds every key. Root-only keys
 * are not checked: this window cannot change them, and the helper already runs them.
 */
export function checkAll(values: Readonly<Record<string, string>>): Map<string, string> {
  const errors = new Map<string, string>();
  for (const spec of CONFIG_FIELDS) {
    if (spec.access !== 'operator') continue;
    const error = checkValue(spec.key, values[spec.key] ?? spec.defaultValue);
    if (error !== null) errors.set(spec.key, error);
  }
  const conflict = crossKeyError((values['BLOCK_BACKEND'] ?? 'nftables') as BlockBackendName, (values['KILL_ROUTE'] ?? '').trim() !== '');
  if (conflict !== null && !errors.has(conflict.key)) errors.set(conflict.key, conflict.message);
  return errors;
}

/**
 * The value of every key as the helper will run it: the file's value where it sets one,
 * else the default (BLOCK_BACKEND's depends on whether a KILL_ROUTE is set, as the helper's).
 */
export function effectiveValues(fileValues: Readonly<Record<string, string>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const spec of CONFIG_FIELDS) values[spec.key] = fileValues[spec.key] ?? spec.defaultValue;
  if (fileValues['BLOCK_BACKEND'] === undefined) {
    values['BLOCK_BACKEND'] = resolveBlockBackend(undefined, (values['KILL_ROUTE'] ?? '').trim() !== '');
  }
  return values;
}

/** Keys an operator may change whose value differs: what Apply sends, and nothing else. */
export function changedValues(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const spec of CONFIG_FIELDS) {
    if (spec.access !== 'operator') continue;
    const value = after[spec.key];
    if (value !== undefined && value !== before[spec.key]) changes[spec.key] = value;
  }
  return changes;
}
