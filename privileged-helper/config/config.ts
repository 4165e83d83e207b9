// Turns the entries of a portsentry.conf (and of the operator settings file on top of it)
// into a validated, typed configuration. Keys, parsers and defaults come from the shared key
// table (shared/domain/config-keys.ts). A config is either wholly valid or rejected with the
// file and line of the first problem, so the helper never runs half-configured.

import {
  CONFIG_KEYS,
  CONFIG_KEY_NAMES,
  ConfigValueError,
  crossKeyError,
  isConfigKey,
  parseKeyValue,
  resolveBlockBackend,
  rootOnlyReason,
  type BlockBackendName,
  type ConfigKey,
  type ConfigValues,
} from '../../shared/domain/config-keys.js';
import { ConfigError, parseConfText, type ConfEntry } from './conf-file.js';
import { defaultAdminSocketPath, defaultSocketPath } from '../../shared/socket-paths.js';

export type { BlockBackendName, BlockLevel } from '../../shared/domain/config-keys.js';
/** The control channels on this OS (the key table's defaults are Linux's). */
export const DEFAULT_RPC_SOCKET = defaultSocketPath(process.platform);
export const DEFAULT_RPC_ADMIN_SOCKET = defaultAdminSocketPath(process.platform);

export type PortSentryConfig = ConfigValues & {
  /** Where the config came from (a path, or "<embedded defaults>"), for messages. */
  readonly file: string;
  /** Line of each key that was set in a file, for mode-dependent errors later. */
  readonly lines: Readonly<Record<string, number>>;
  /** The file each key's value came from, or "default". */
  readonly sources: Readonly<Record<string, string>>;
  /** Lines that were skipped rather than refused (file:line and why), for the log. */
  readonly notices: readonly string[];
};

/** One file's entries and how far it is trusted. */
export interface ConfigLayer {
  readonly file: string;
  readonly entries: readonly ConfEntry[];
  /**
   * "main": root's own config file, may set every key (and name a shell in a template).
   * "operator": the operator settings file, written on operators' behalf; detection tunables only.
   */
  readonly kind: 'main' | 'operator';
}

export const KNOWN_KEYS: readonly string[] = CONFIG_KEY_NAMES;

/**
 * Every key's effective value as it would be written in portsentry.conf (defaults included),
 * so a settings window can show the whole configuration, not only what the file sets.
 */
export function formatConfigValues(config: PortSentryConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CONFIG_KEY_NAMES) {
    const value: unknown = (config as unknown as Record<string, unknown>)[CONFIG_KEYS[name].field];
    if (value === null || value === undefined) out[name] = '';
    else if (Array.isArray(value)) out[name] = value.join(',');
    else if (typeof value === 'boolean') out[name] = value ? '1' : '0';
    else if (typeof value === 'object' && 'raw' in value) out[name] = String((value as { raw: string }).raw);
    else out[name] = String(value);
  }
  return out;
}

/** Parses and validates root's main config file alone. Throws ConfigError. */
export function parseConfig(text: string, file: string): PortSentryConfig {
  return buildConfig([{ file, entries: parseConfText(text, file), kind: 'main' }]);
}

/**
 * The main config, then the operator settings file on top of it (its keys win). Throws
 * ConfigError naming the file and line of the first problem in either.
 */
export function parseLayeredConfig(main: { text: string; file: string }, operator: { text: string; file: string } | null): PortSentryConfig {
  const layers: ConfigLayer[] = [{ file: main.file, entries: parseConfText(main.text, main.file), kind: 'main' }];
  if (operator !== null) layers.push({ file: operator.file, entries: parseConfText(operator.text, operator.file), kind: 'operator' });
  return buildConfig(layers);
}

export function buildConfig(layers: readonly ConfigLayer[]): PortSentryConfig {
  const values: Record<string, unknown> = {};
  const lines: Record<string, number> = {};
  const sources: Record<string, string> = {};
  const notices: string[] = [];
  const mainFile = layers[0]?.file ?? '<none>';
  for (const name of CONFIG_KEY_NAMES) {
    // Defaults are ours, so they are parsed as trusted; a default that does not parse is a bug.
    values[CONFIG_KEYS[name].field] = parseKeyValue(name, CONFIG_KEYS[name].defaultText, { trustedFile: true });
    sources[name] = 'default';
  }
  values['rpcSocket'] = DEFAULT_RPC_SOCKET;
  values['rpcAdminSocket'] = DEFAULT_RPC_ADMIN_SOCKET;
  let explicitBackend: BlockBackendName | undefined;
  let backendLayer: ConfigLayer | undefined;
  for (const layer of layers) {
    for (const entry of layer.entries) {
      if (!isConfigKey(entry.key)) {
        throw new ConfigError(layer.file, entry.line, `unknown key ${entry.key}${suggestion(entry.key)}`);
      }
      const name: ConfigKey = entry.key;
      if (layer.kind === 'operator' && CONFIG_KEYS[name].access !== 'operator') {
        if (CONFIG_KEYS[name].formerlyOperator === true) {
          notices.push(`${layer.file}:${entry.line}: ${name} is skipped: ${rootOnlyReason(name, mainFile)} (operators could set it in an earlier release)`);
          continue;
        }
        throw new ConfigError(layer.file, entry.line, `${name} cannot be set in the operator settings file: ${rootOnlyReason(name, mainFile)}`);
      }
      let value: unknown;
      try {
        value = parseKeyValue(name, entry.value, { trustedFile: layer.kind === 'main' });
      } catch (error) {
        if (error instanceof ConfigValueError) throw new ConfigError(layer.file, entry.line, error.message);
        throw error;
      }
      values[CONFIG_KEYS[name].field] = value;
      lines[name] = entry.line;
      sources[name] = layer.file;
      if (name === 'BLOCK_BACKEND') {
        explicitBackend = value as BlockBackendName;
        backendLayer = layer;
      }
    }
  }
  const killRouteSet = values['killRoute'] !== null;
  const backend = resolveBlockBackend(explicitBackend, killRouteSet);
  values['blockBackend'] = backend;
  const conflict = crossKeyError(backend, killRouteSet);
  if (conflict !== null) throw new ConfigError(backendLayer?.file ?? mainFile, lines[conflict.key] ?? null, conflict.message);
  return { ...(values as ConfigValues), file: mainFile, lines, sources, notices };
}

function suggestion(key: string): string {
  const upper = key.toUpperCase();
  const close = KNOWN_KEYS.find((known) => known === upper || editDistance(known, upper) <= 2);
  return close === undefined ? '' : ` (did you mean ${close}?)`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j] as number;
      row[j] = Math.min(saved + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length] as number;
}
