// Turns the entries of a portsentry.conf into a validated, typed configuration: every
// classic PortSentry 1.2 key plus our new ones, each with one parser and a default. A
// config is either wholly valid or rejected with the file and line of the first problem,
// so the helper never runs half-configured.

import { isAbsolute } from 'node:path';
import { parseCommandTemplate, templateUses, type CommandTemplate } from '../responders/command-template.js';
import { ConfigError, parseConfText, printable, type ConfEntry } from './conf-file.js';

export type BlockLevel = 0 | 1 | 2;
export type BlockBackendName = 'nftables' | 'pf' | 'windows-firewall' | 'command' | 'none';

export interface PortSentryConfig {
  /** Where the config came from (a path, or "<embedded defaults>"), for messages. */
  readonly file: string;
  readonly tcpPorts: readonly number[];
  readonly udpPorts: readonly number[];
  readonly advancedPortsTcp: number;
  readonly advancedPortsUdp: number;
  readonly advancedExcludeTcp: readonly number[];
  readonly advancedExcludeUdp: readonly number[];
  readonly ignoreFile: string;
  readonly historyFile: string;
  readonly blockedFile: string;
  readonly resolveHost: boolean;
  readonly blockTcp: BlockLevel;
  readonly blockUdp: BlockLevel;
  readonly killRoute: CommandTemplate | null;
  readonly killHostsDeny: string | null;
  readonly killRunCmd: CommandTemplate | null;
  readonly killRunCmdFirst: boolean;
  readonly portBanner: string | null;
  readonly scanTrigger: number;
  // Keys new in PortSentry Desktop.
  readonly blockBackend: BlockBackendName;
  readonly nftTable: string;
  readonly blockTimeoutSeconds: number;
  readonly ipv6: boolean;
  readonly syslogSocket: string;
  readonly hostsDenyFile: string;
  readonly scanTriggerWindowSeconds: number;
  readonly stateMaxSources: number;
  /** The helper's control socket (JSON-RPC); "" turns the control channel off. */
  readonly rpcSocket: string;
  /** Members of this group (and root) may use the control socket. */
  readonly rpcGroup: string;
  /** SQLite store of events and blocks; "" keeps them in memory only. */
  readonly storeFile: string;
  readonly eventRetentionDays: number;
  /** Stealth/advanced modes block the first probe inside the kernel (see responders/kernel-trap.ts). */
  readonly kernelTrap: boolean;
  /** Elements each nftables blocked set holds at most; when full, the soonest to expire, then the oldest, are evicted. */
  readonly blockSetSize: number;
  /** An IPv6 scanner is blocked by its network of this many bits (128: the host alone). */
  readonly blockPrefix6: number;
  /** Line of each key that was set in the file, for mode-dependent errors later. */
  readonly lines: Readonly<Record<string, number>>;
}

type KeyParser = (value: string, key: string) => unknown;
interface KeySpec {
  readonly field: Exclude<keyof PortSentryConfig, 'file' | 'lines' | 'blockBackend'> | 'blockBackend';
  readonly parse: KeyParser;
}

const SPECS: Readonly<Record<string, KeySpec>> = {
  TCP_PORTS: { field: 'tcpPorts', parse: portList },
  UDP_PORTS: { field: 'udpPorts', parse: portList },
  ADVANCED_PORTS_TCP: { field: 'advancedPortsTcp', parse: (v, k) => integer(v, k, 1, 65535) },
  ADVANCED_PORTS_UDP: { field: 'advancedPortsUdp', parse: (v, k) => integer(v, k, 1, 65535) },
  ADVANCED_EXCLUDE_TCP: { field: 'advancedExcludeTcp', parse: portList },
  ADVANCED_EXCLUDE_UDP: { field: 'advancedExcludeUdp', parse: portList },
  IGNORE_FILE: { field: 'ignoreFile', parse: absolutePath },
  HISTORY_FILE: { field: 'historyFile', parse: absolutePath },
  BLOCKED_FILE: { field: 'blockedFile', parse: absolutePath },
  RESOLVE_HOST: { field: 'resolveHost', parse: flag },
  BLOCK_TCP: { field: 'blockTcp', parse: blockLevel },
  BLOCK_UDP: { field: 'blockUdp', parse: blockLevel },
  KILL_ROUTE: { field: 'killRoute', parse: (v, k) => command(v, k, true) },
  KILL_HOSTS_DENY: { field: 'killHostsDeny', parse: hostsDenyLine },
  KILL_RUN_CMD: { field: 'killRunCmd', parse: (v, k) => command(v, k, false) },
  KILL_RUN_CMD_FIRST: { field: 'killRunCmdFirst', parse: flag },
  PORT_BANNER: { field: 'portBanner', parse: (v) => (v === '' ? null : v) },
  SCAN_TRIGGER: { field: 'scanTrigger', parse: (v, k) => integer(v, k, 0, 1000) },
  BLOCK_BACKEND: { field: 'blockBackend', parse: backendName },
  NFT_TABLE: { field: 'nftTable', parse: nftIdentifier },
  BLOCK_TIMEOUT: { field: 'blockTimeoutSeconds', parse: (v, k) => integer(v, k, 0, 10 * 365 * 86400) },
  IPV6: { field: 'ipv6', parse: flag },
  SYSLOG_SOCKET: { field: 'syslogSocket', parse: absolutePath },
  HOSTS_DENY_FILE: { field: 'hostsDenyFile', parse: absolutePath },
  SCAN_TRIGGER_WINDOW: { field: 'scanTriggerWindowSeconds', parse: (v, k) => integer(v, k, 1, 30 * 86400) },
  STATE_MAX_SOURCES: { field: 'stateMaxSources', parse: (v, k) => integer(v, k, 16, 50_000_000) },
  RPC_SOCKET: { field: 'rpcSocket', parse: optionalPath },
  RPC_GROUP: { field: 'rpcGroup', parse: groupName },
  STORE_FILE: { field: 'storeFile', parse: optionalPath },
  EVENT_RETENTION_DAYS: { field: 'eventRetentionDays', parse: (v, k) => integer(v, k, 1, 36500) },
  KERNEL_TRAP: { field: 'kernelTrap', parse: flag },
  BLOCK_SET_SIZE: { field: 'blockSetSize', parse: (v, k) => integer(v, k, 1024, 16_000_000) },
  BLOCK_PREFIX6: { field: 'blockPrefix6', parse: (v, k) => integer(v, k, 16, 128) },
};

export const KNOWN_KEYS: readonly string[] = Object.keys(SPECS);

/**
 * Every key's effective value as it would be written in portsentry.conf (defaults included),
 * so a settings window can show the whole configuration, not only what the file sets.
 */
export function formatConfigValues(config: PortSentryConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, spec] of Object.entries(SPECS)) {
    const value: unknown = config[spec.field];
    if (value === null || value === undefined) out[key] = '';
    else if (Array.isArray(value)) out[key] = value.join(',');
    else if (typeof value === 'boolean') out[key] = value ? '1' : '0';
    else if (typeof value === 'object' && 'raw' in value) out[key] = String((value as { raw: string }).raw);
    else out[key] = String(value);
  }
  return out;
}

/** The control channel: a unix socket, or on Windows a named pipe. */
export const DEFAULT_RPC_SOCKET = process.platform === 'win32' ? '\\\\.\\pipe\\portsentry-desktop-helper' : '/run/portsentry-desktop/helper.sock';

/** Values for keys a file leaves out. Paths follow our package's layout. */
const DEFAULTS = {
  tcpPorts: [],
  udpPorts: [],
  advancedPortsTcp: 1024,
  advancedPortsUdp: 1024,
  advancedExcludeTcp: [],
  advancedExcludeUdp: [],
  // Our own directories, so we never write over the files of an installed classic portsentry.
  ignoreFile: '/etc/portsentry-desktop/portsentry.ignore',
  historyFile: '/var/lib/portsentry-desktop/portsentry.history',
  blockedFile: '/var/lib/portsentry-desktop/portsentry.blocked',
  resolveHost: false,
  // As in the original, a config that does not ask for blocking only reports.
  blockTcp: 0,
  blockUdp: 0,
  killRoute: null,
  killHostsDeny: null,
  killRunCmd: null,
  killRunCmdFirst: false,
  portBanner: null,
  scanTrigger: 0,
  nftTable: 'portsentry',
  blockTimeoutSeconds: 0,
  ipv6: true,
  syslogSocket: '/dev/log',
  hostsDenyFile: '/etc/hosts.deny',
  scanTriggerWindowSeconds: 3600,
  stateMaxSources: 65536,
  rpcSocket: DEFAULT_RPC_SOCKET,
  rpcGroup: 'portsentry',
  storeFile: '/var/lib/portsentry-desktop/events.db',
  eventRetentionDays: 90,
  kernelTrap: true,
  blockSetSize: 1_000_000,
  blockPrefix6: 64,
} as const satisfies Omit<PortSentryConfig, 'file' | 'lines' | 'blockBackend'>;

/** Parses and validates a whole config file's text. Throws ConfigError. */
export function parseConfig(text: string, file: string): PortSentryConfig {
  return buildConfig(parseConfText(text, file), file);
}

export function buildConfig(entries: readonly ConfEntry[], file: string): PortSentryConfig {
  const values: Record<string, unknown> = { ...DEFAULTS };
  const lines: Record<string, number> = {};
  for (const entry of entries) {
    const spec = SPECS[entry.key];
    if (spec === undefined) {
      throw new ConfigError(file, entry.line, `unknown key ${entry.key}${suggestion(entry.key)}`);
    }
    try {
      values[spec.field] = spec.parse(entry.value, entry.key);
    } catch (error) {
      if (error instanceof ValueError) throw new ConfigError(file, entry.line, error.message);
      throw error;
    }
    lines[entry.key] = entry.line;
  }
  if (values['blockBackend'] === undefined) {
    // Classic configs that name a KILL_ROUTE keep using it; otherwise our nftables table.
    values['blockBackend'] = values['killRoute'] === null ? 'nftables' : 'command';
  }
  if (values['blockBackend'] === 'command' && values['killRoute'] === null) {
    throw new ConfigError(file, lines['BLOCK_BACKEND'] ?? null, 'BLOCK_BACKEND="command" needs a KILL_ROUTE command');
  }
  return { ...(values as Omit<PortSentryConfig, 'file' | 'lines'>), file, lines };
}

class ValueError extends Error {}

function portList(value: string, key: string): number[] {
  if (value.trim() === '') return [];
  const ports = value.split(',').map((part) => {
    const text = part.trim();
    if (!/^\d{1,5}$/.test(text)) throw new ValueError(`${key} must be a comma-separated list of ports; "${printable(text)}" is not a port`);
    const port = Number(text);
    if (port < 1 || port > 65535) throw new ValueError(`${key}: port ${port} is outside 1-65535`);
    return port;
  });
  return [...new Set(ports)];
}

function integer(value: string, key: string, min: number, max: number): number {
  const text = value.trim();
  if (!/^\d{1,12}$/.test(text)) throw new ValueError(`${key} must be a whole number, not "${printable(value)}"`);
  const number = Number(text);
  if (number < min || number > max) throw new ValueError(`${key} must be between ${min} and ${max}, not ${number}`);
  return number;
}

function flag(value: string, key: string): boolean {
  const text = value.trim();
  if (text === '0') return false;
  if (text === '1') return true;
  throw new ValueError(`${key} must be "0" or "1", not "${printable(value)}"`);
}

function blockLevel(value: string, key: string): BlockLevel {
  const text = value.trim();
  if (text === '0' || text === '1' || text === '2') return Number(text) as BlockLevel;
  throw new ValueError(`${key} must be "0" (report only), "1" (block) or "2" (run KILL_RUN_CMD only), not "${printable(value)}"`);
}

function absolutePath(value: string, key: string): string {
  if (!isAbsolute(value) || value.includes('\0')) throw new ValueError(`${key} must be an absolute path, not "${printable(value)}"`);
  return value;
}

function optionalPath(value: string, key: string): string {
  if (value === '' || (key === 'RPC_SOCKET' && /^\\\\[.?]\\pipe\\[A-Za-z0-9_.-]{1,200}$/.test(value))) return value;
  return absolutePath(value, key);
}

function groupName(value: string, key: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(value)) throw new ValueError(`${key} must be a group name (lower case letters, digits, _ and -), not "${printable(value)}"`);
  return value;
}

function command(value: string, key: string, needsTarget: boolean): CommandTemplate | null {
  if (value.trim() === '') return null;
  const result = parseCommandTemplate(value);
  if (!result.ok) throw new ValueError(`${key} ${result.message}`);
  if (needsTarget && !templateUses(result.template, '$TARGET$')) {
    throw new ValueError(`${key} must contain $TARGET$, where the scanner's address goes`);
  }
  return result.template;
}

function hostsDenyLine(value: string, key: string): string | null {
  if (value.trim() === '') return null;
  if (!value.includes('$TARGET$')) throw new ValueError(`${key} must contain $TARGET$, where the scanner's address goes`);
  return value;
}

function backendName(value: string, key: string): BlockBackendName {
  if (value === 'nftables' || value === 'pf' || value === 'windows-firewall' || value === 'command' || value === 'none') return value;
  throw new ValueError(`${key} must be "nftables", "pf" (macOS), "windows-firewall", "command" (run KILL_ROUTE) or "none", not "${printable(value)}"`);
}

function nftIdentifier(value: string, key: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(value)) {
    throw new ValueError(`${key} must be a letter followed by up to 31 letters, digits or underscores`);
  }
  return value;
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
