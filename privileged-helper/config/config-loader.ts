// Reads the config, operator settings and ignore files from disk (the only I/O of
// configuration), bounded in size, and turns every failure into a ConfigError that names the
// file and, where it can, the line. Root runs what these files say, so each must be a file
// only root can change (see files/safe-paths.ts): a config someone else can write is refused.

import { readFile, stat } from '../files/start-fs.js';
import { dirname } from 'node:path';
import { ConfigError } from './conf-file.js';
import { parseConfig, parseLayeredConfig, type PortSentryConfig } from './config.js';
import { assertSafeFile, UnsafePathError } from '../files/safe-paths.js';
import { EMBEDDED_CONFIG_NAME, EMBEDDED_CONFIG_TEXT } from './default-config.js';
import { parseIgnoreText, type IgnoreEntry } from './ignore-list.js';
import { protocolOfMode, type Mode } from '../../shared/domain/types.js';

const MAX_FILE_BYTES = 1024 * 1024;

/** Root's config (or the embedded defaults), then the operator settings file on top of it. */
export async function loadConfig(path: string | null): Promise<PortSentryConfig> {
  const main = path === null ? { text: EMBEDDED_CONFIG_TEXT, file: EMBEDDED_CONFIG_NAME } : { text: await readBoundedText(path, 'config file'), file: path };
  const base = parseConfig(main.text, main.file);
  const operatorFile = base.operatorSettingsFile;
  if (operatorFile === '') return base;
  const operatorText = await readOptionalText(operatorFile, 'operator settings file');
  return operatorText === null ? base : parseLayeredConfig(main, { text: operatorText, file: operatorFile });
}

/** A file that may not exist yet (nor its directory: the state directory on a first start). */
async function readOptionalText(path: string, what: string): Promise<string | null> {
  try {
    await stat(dirname(path));
  } catch {
    return null;
  }
  try {
    return await readBoundedText(path, what);
  } catch (error) {
    if (error instanceof ConfigError && /no such file/i.test(error.detail)) return null;
    throw error;
  }
}

export interface LoadedIgnoreList {
  readonly entries: readonly IgnoreEntry[];
  /** Set when the file does not exist: the helper then ignores only its own addresses. */
  readonly missing: boolean;
}

export async function loadIgnoreList(path: string): Promise<LoadedIgnoreList> {
  let text: string;
  try {
    text = await readBoundedText(path, 'ignore file');
  } catch (error) {
    if (error instanceof ConfigError && /no such file/i.test(error.detail)) return { entries: [], missing: true };
    throw error;
  }
  return { entries: parseIgnoreText(text, path), missing: false };
}

/** Checks that each requested mode has what it needs in the config. */
export function checkModes(config: PortSentryConfig, modes: readonly Mode[]): void {
  for (const mode of modes) {
    const tcp = protocolOfMode(mode) === 'tcp';
    const key = tcp ? 'TCP_PORTS' : 'UDP_PORTS';
    const ports = tcp ? config.tcpPorts : config.udpPorts;
    if ((mode === 'tcp' || mode === 'udp' || mode === 'stcp' || mode === 'sudp') && ports.length === 0) {
      throw new ConfigError(config.file, config.lines[key] ?? null, `${key} lists no ports, but mode -${mode} needs them`);
    }
  }
}

async function readBoundedText(path: string, what: string): Promise<string> {
  try {
    // A missing file (or directory) is "no such file" first: callers treat an absent ignore
    // list as empty; only a file that is there is judged for who could have written it.
    const info = await stat(path);
    await assertSafeFile(path, what);
    if (!info.isFile()) throw new ConfigError(path, null, 'is not a regular file');
    if (info.size > MAX_FILE_BYTES) throw new ConfigError(path, null, `is larger than ${MAX_FILE_BYTES} bytes`);
    const bytes = await readFile(path);
    const text = bytes.toString('utf8');
    if (text.includes('\uFFFD') || bytes.includes(0)) throw new ConfigError(path, null, 'is not a text file');
    return text;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof UnsafePathError) throw new ConfigError(path, null, `refused: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(path, null, `cannot read: ${why}`);
  }
}
