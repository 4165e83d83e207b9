// Reads the config and ignore files from disk (the only I/O of configuration), bounded in
// size, and turns every failure into a ConfigError that names the file and, where it can,
// the line.

import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../config/conf-file.js';
import { parseConfig, type PortSentryConfig } from '../config/config.js';
import { EMBEDDED_CONFIG_NAME, EMBEDDED_CONFIG_TEXT } from '../config/default-config.js';
import { parseIgnoreText, type IgnoreEntry } from '../config/ignore-list.js';
import { protocolOfMode, type Mode } from '../core/types.js';

const MAX_FILE_BYTES = 1024 * 1024;

export async function loadConfig(path: string | null): Promise<PortSentryConfig> {
  if (path === null) return parseConfig(EMBEDDED_CONFIG_TEXT, EMBEDDED_CONFIG_NAME);
  return parseConfig(await readBoundedText(path), path);
}

export interface LoadedIgnoreList {
  readonly entries: readonly IgnoreEntry[];
  /** Set when the file does not exist: the helper then ignores only its own addresses. */
  readonly missing: boolean;
}

export async function loadIgnoreList(path: string): Promise<LoadedIgnoreList> {
  let text: string;
  try {
    text = await readBoundedText(path);
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

async function readBoundedText(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(path, null, 'is not a regular file');
    if (info.size > MAX_FILE_BYTES) throw new ConfigError(path, null, `is larger than ${MAX_FILE_BYTES} bytes`);
    const bytes = await readFile(path);
    const text = bytes.toString('utf8');
    if (text.includes('\uFFFD') || bytes.includes(0)) throw new ConfigError(path, null, 'is not a text file');
    return text;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(path, null, `cannot read: ${why}`);
  }
}
