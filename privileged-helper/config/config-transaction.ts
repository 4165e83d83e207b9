// A settings change as one transaction: which file each key goes to (tunables to the operator
// settings file, read after root's config; the rest to root's own file), the new texts checked
// exactly as the loader will read them, layered, then written, reloaded, and put back if the
// reload refuses them. The plan is pure; `applyConfigChange` does the file I/O through what it
// is handed. The control channel decides who may ask (rpc/control-service.ts); this decides
// what the change is.

import { ConfigError } from './conf-file.js';
import { checkModes } from './config-loader.js';
import { formatConfigValues, parseLayeredConfig, type PortSentryConfig } from './config.js';
import { applyConfigChanges, changedKeys } from './config-edit.js';
import { OPERATOR_FILE_HEADER } from './operator-settings.js';
import { operatorMayChange } from '../../shared/domain/config-keys.js';

/** Why a change was refused: invalid as written, or valid but not applicable here (rolled back). */
export class ConfigChangeError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not-applied',
    message: string,
  ) {
    super(message);
    this.name = 'ConfigChangeError';
  }
}

export interface ConfigFiles {
  /** Root's config file; null when the helper runs on its embedded defaults. */
  readonly mainPath: string | null;
  /** The operator settings file; null when OPERATOR_SETTINGS_FILE is empty. */
  readonly operatorPath: string | null;
}

export interface ConfigTexts {
  /** Root's file as it is (or the embedded defaults). */
  readonly main: string;
  /** The operator settings file as it is ('' when absent). */
  readonly operator: string;
}

export interface ConfigChangePlan {
  /** Keys whose effective value changes. */
  readonly changed: string[];
  /** Files to write: what each held before (for the rollback) and what it will hold. */
  readonly writes: ReadonlyArray<{ readonly file: string; readonly before: string; readonly after: string }>;
}

/**
 * Plans a change of `changes` (keys already known and allowed for the caller). `modesFromConfig`:
 * the running modes come from MODES, so the modes it names must have their ports.
 */
export function planConfigChange(changes: Readonly<Record<string, string>>, texts: ConfigTexts, files: ConfigFiles, modesFromConfig: boolean): ConfigChangePlan {
  const toOperatorFile: Record<string, string> = {};
  const toMainFile: Record<string, string> = {};
  for (const [key, value] of Object.entries(changes)) {
    if (operatorMayChange(key) && files.operatorPath !== null) toOperatorFile[key] = value;
    else toMainFile[key] = value;
  }
  if (Object.keys(toMainFile).length > 0 && files.mainPath === null) {
    throw new ConfigChangeError('invalid', 'the helper runs on its embedded defaults; start it with -c FILE to change these settings');
  }
  const mainAfter = Object.keys(toMainFile).length > 0 ? applyConfigChanges(texts.main, toMainFile) : texts.main;
  const operatorAfter = Object.keys(toOperatorFile).length > 0 ? applyConfigChanges(texts.operator === '' ? OPERATOR_FILE_HEADER : texts.operator, toOperatorFile) : texts.operator;
  const layered = (main: string, operator: string): PortSentryConfig =>
    parseLayeredConfig({ text: main, file: files.mainPath ?? '<embedded defaults>' }, files.operatorPath === null ? null : { text: operator, file: files.operatorPath });
  let before: PortSentryConfig;
  let after: PortSentryConfig;
  try {
    before = layered(texts.main, texts.operator);
    after = layered(mainAfter, operatorAfter);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigChangeError('invalid', error.message);
    throw error;
  }
  // The modes MODES names need their ports (-tcp needs TCP_PORTS...): refused here, with the
  // reason, rather than applied and rolled back.
  if (modesFromConfig) {
    try {
      checkModes(after, after.modes);
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigChangeError('invalid', error.detail);
      throw error;
    }
  }
  const changed = changedKeys(formatConfigValues(before), formatConfigValues(after));
  const writes: Array<{ file: string; before: string; after: string }> = [];
  if (mainAfter !== texts.main && files.mainPath !== null) writes.push({ file: files.mainPath, before: texts.main, after: mainAfter });
  if (operatorAfter !== texts.operator && files.operatorPath !== null) writes.push({ file: files.operatorPath, before: texts.operator, after: operatorAfter });
  return { changed, writes };
}

/** Writes the plan, reloads; if the reload refuses it, puts every file back and reloads again. */
export async function applyConfigChange(plan: ConfigChangePlan, io: { write(file: string, text: string): Promise<void>; reload(): Promise<boolean> }): Promise<void> {
  if (plan.writes.length === 0) return;
  for (const write of plan.writes) await io.write(write.file, write.after);
  if (await io.reload()) return;
  // Valid on its own but not applicable here (e.g. a mode's ports cannot be bound): put it back.
  for (const write of plan.writes) await io.write(write.file, write.before);
  await io.reload();
  throw new ConfigChangeError('not-applied', 'the new settings could not be applied; the previous ones are still in force (see the log)');
}
