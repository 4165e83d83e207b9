// Every helper config key, as the settings window shows and checks it. The checks repeat
// privileged-helper/config/config.ts (which cannot be loaded here: it needs node:path) with
// the same rules and the same sentences; the command templates use the helper's own pure
// parser. test/renderer/pure-rules.test.ts runs both on the same inputs so they cannot drift.

import { parseCommandTemplate, templateUses } from '../../privileged-helper/responders/command-template.js';
import { printable } from '../lib/text-rules.js';

export type FieldGroup = 'ports' | 'detection' | 'responses' | 'ignore' | 'files';
export type FieldWidget = 'text' | 'flag' | 'block-level' | 'backend';

export interface ConfigField {
  readonly key: string;
  readonly label: string;
  readonly hint: string;
  readonly group: FieldGroup;
  readonly widget: FieldWidget;
  /** The value the helper uses when the file leaves the key out, as it would be written. */
  readonly defaultValue: string;
  /** Null when valid, else the helper's own sentence. */
  readonly check: (value: string) => string | null;
}

/** What the protocol lets through at all (schemas.ts configValueSchema). */
export const MAX_CONFIG_VALUE = 4096;

const portList = (key: string) => (value: string) => {
  if (value.trim() === '') return null;
  for (const part of value.split(',')) {
    const text = part.trim();
    if (!/^\d{1,5}$/.test(text)) return `${key} must be a comma-separated list of ports; "${printable(text)}" is not a port`;
    const port = Number(text);
    if (port < 1 || port > 65535) return `${key}: port ${port} is outside 1-65535`;
  }
  return null;
};

const integer = (key: string, min: number, max: number) => (value: string) => {
  const text = value.trim();
  if (!/^\d{1,12}$/.test(text)) return `${key} must be a whole number, not "${printable(value)}"`;
  const number = Number(text);
  if (number < min || number > max) return `${key} must be between ${min} and ${max}, not ${number}`;
  return null;
};

const flag = (key: string) => (value: string) =>
  value.trim() === '0' || value.trim() === '1' ? null : `${key} must be "0" or "1", not "${printable(value)}"`;

const blockLevel = (key: string) => (value: string) =>
  ['0', '1', '2'].includes(value.trim()) ? null : `${key} must be "0" (report only), "1" (block) or "2" (run KILL_RUN_CMD only), not "${printable(value)}"`;

const absolutePath = (key: string) => (value: string) =>
  value.startsWith('/') && !value.includes('\0') ? null : `${key} must be an absolute path, not "${printable(value)}"`;

const optionalPath = (key: string) => (value: string) =>
  value === '' || (key === 'RPC_SOCKET' && /^\\\\[.?]\\pipe\\[A-Za-z0-9_.-]{1,200}$/.test(value)) ? null : absolutePath(key)(value);

const groupName = (key: string) => (value: string) =>
  /^[a-z_][a-z0-9_-]{0,31}$/.test(value) ? null : `${key} must be a group name (lower case letters, digits, _ and -), not "${printable(value)}"`;

const command = (key: string, needsTarget: boolean) => (value: string) => {
  if (value.trim() === '') return null;
  const result = parseCommandTemplate(value);
  if (!result.ok) return `${key} ${result.message}`;
  if (needsTarget && !templateUses(result.template, '$TARGET$')) return `${key} must contain $TARGET$, where the scanner's address goes`;
  return null;
};

const hostsDenyLine = (key: string) => (value: string) =>
  value.trim() === '' || value.includes('$TARGET$') ? null : `${key} must contain $TARGET$, where the scanner's address goes`;

const backendName = (key: string) => (value: string) =>
  value === 'nftables' || value === 'pf' || value === 'windows-firewall' || value === 'command' || value === 'none'
    ? null
    : `${key} must be "nftables", "pf" (macOS), "windows-firewall", "command" (run KILL_ROUTE) or "none", not "${printable(value)}"`;

const nftIdentifier = (key: string) => (value: string) =>
  /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(value) ? null : `${key} must be a letter followed by up to 31 letters, digits or underscores`;

const anything = () => () => null;

type Rule = (key: string) => (value: string) => string | null;

function field(key: string, group: FieldGroup, widget: FieldWidget, label: string, hint: string, defaultValue: string, rule: Rule): ConfigField {
  return { key, group, widget, label, hint, defaultValue, check: rule(key) };
}

export const CONFIG_FIELDS: readonly ConfigField[] = [
  field('TCP_PORTS', 'ports', 'text', 'TCP tripwire ports', 'Comma-separated; any connection to one of these counts as a scan.', '', portList),
  field('UDP_PORTS', 'ports', 'text', 'UDP tripwire ports', 'Comma-separated; any packet to one of these counts as a scan.', '', portList),
  field('ADVANCED_PORTS_TCP', 'ports', 'text', 'Watch TCP ports below', 'Advanced and stealth modes watch every TCP port under this number (1-65535).', '1024', (k) => integer(k, 1, 65535)),
  field('ADVANCED_PORTS_UDP', 'ports', 'text', 'Watch UDP ports below', 'Advanced modes watch every UDP port under this number (1-65535).', '1024', (k) => integer(k, 1, 65535)),
  field('ADVANCED_EXCLUDE_TCP', 'ports', 'text', 'TCP ports to leave alone', 'Comma-separated; advanced mode never reacts to these (e.g. ident).', '', portList),
  field('ADVANCED_EXCLUDE_UDP', 'ports', 'text', 'UDP ports to leave alone', 'Comma-separated; advanced mode never reacts to these (e.g. DHCP, NetBIOS).', '', portList),

  field('SCAN_TRIGGER', 'detection', 'text', 'Touches before acting', 'Act at the Nth touch from one host; 0 and 1 both mean the first (0-1000).', '0', (k) => integer(k, 0, 1000)),
  field('SCAN_TRIGGER_WINDOW', 'detection', 'text', 'Counting window (seconds)', 'Touches are counted over this many seconds (1-2592000).', '3600', (k) => integer(k, 1, 30 * 86400)),
  field('STATE_MAX_SOURCES', 'detection', 'text', 'Hosts remembered at most', 'Bound on hosts the counter tracks; the least recently seen are forgotten (16-50000000).', '65536', (k) => integer(k, 16, 50_000_000)),
  field('IPV6', 'detection', 'flag', 'Watch IPv6 too', 'Tripwires and detection on IPv6 as well as IPv4.', '1', flag),
  field('KERNEL_TRAP', 'detection', 'flag', 'Block the first probe in the kernel', 'Stealth and advanced modes: the scanner is blocked by nftables on its first probe, before any reply reveals a port.', '1', flag),
  field('RESOLVE_HOST', 'detection', 'flag', 'Look up scanner names', 'Show the reverse DNS name of each scanner (slower).', '0', flag),

  field('BLOCK_TCP', 'responses', 'block-level', 'Answer to TCP scans', 'Report only, block the scanner, or only run the command below.', '0', blockLevel),
  field('BLOCK_UDP', 'responses', 'block-level', 'Answer to UDP scans', 'Report only, block the scanner, or only run the command below.', '0', blockLevel),
  field('BLOCK_BACKEND', 'responses', 'backend', 'How to block', 'Our nftables table (Linux), a pf table (macOS), Windows Firewall rules, the KILL_ROUTE command, or no route-level block.', 'nftables', backendName),
  field('NFT_TABLE', 'responses', 'text', 'nftables table name', 'The table inet <name> that holds the blocked sets.', 'portsentry', nftIdentifier),
  field('BLOCK_TIMEOUT', 'responses', 'text', 'Block lasts (seconds)', '0 blocks until you unblock by hand (0-315360000).', '0', (k) => integer(k, 0, 10 * 365 * 86400)),
  field('BLOCK_SET_SIZE', 'responses', 'text', 'Blocks held at most (per family)', 'Size of each nftables blocked set; when full, the blocks that expire soonest, then the oldest, make room (1024-16000000).', '1000000', (k) => integer(k, 1024, 16_000_000)),
  field('BLOCK_PREFIX6', 'responses', 'text', 'IPv6 block covers (prefix bits)', 'An IPv6 scanner is blocked with its whole network of this many bits, so rotating addresses do not help it; 128 blocks the one address (16-128).', '64', (k) => integer(k, 16, 128)),
  field('KILL_ROUTE', 'responses', 'text', 'Block command', 'Runs without a shell; must contain $TARGET$. Empty for none.', '', (k) => command(k, true)),
  field('KILL_HOSTS_DENY', 'responses', 'text', 'hosts.deny line', 'Added to hosts.deny for each scanner; must contain $TARGET$. Empty for none.', '', hostsDenyLine),
  field('HOSTS_DENY_FILE', 'responses', 'text', 'hosts.deny file', 'Absolute path of the TCP wrappers file.', '/etc/hosts.deny', absolutePath),
  field('KILL_RUN_CMD', 'responses', 'text', 'Extra command', 'Runs without a shell on each scan ($TARGET$, $PORT$, $MODE$). Empty for none.', '', (k) => command(k, false)),
  field('KILL_RUN_CMD_FIRST', 'responses', 'flag', 'Run the extra command before blocking', 'Otherwise it runs after the block.', '0', flag),
  field('PORT_BANNER', 'responses', 'text', 'Banner sent to scanners', 'Text written to a connecting scanner. Empty for none.', '', anything),

  field('IGNORE_FILE', 'ignore', 'text', 'Ignore list file', 'Absolute path of the file listing hosts never to block.', '/etc/portsentry-desktop/portsentry.ignore', absolutePath),

  field('HISTORY_FILE', 'files', 'text', 'History file', 'Absolute path; one line per attack, as classic PortSentry wrote.', '/var/lib/portsentry-desktop/portsentry.history', absolutePath),
  field('BLOCKED_FILE', 'files', 'text', 'Blocked hosts file', 'Absolute path; the mode is appended (.tcp, .udp...).', '/var/lib/portsentry-desktop/portsentry.blocked', absolutePath),
  field('SYSLOG_SOCKET', 'files', 'text', 'Syslog socket', 'Where log lines go.', '/dev/log', absolutePath),
  field('RPC_SOCKET', 'files', 'text', 'Control socket', 'This app talks to the helper here. Empty turns the control channel off.', '/run/portsentry-desktop/helper.sock', optionalPath),
  field('RPC_GROUP', 'files', 'text', 'Control group', 'Members of this group (and root) may control the helper.', 'portsentry', groupName),
  field('STORE_FILE', 'files', 'text', 'Event database', 'Absolute path of the events store. Empty keeps events in memory only.', '/var/lib/portsentry-desktop/events.db', optionalPath),
  field('EVENT_RETENTION_DAYS', 'files', 'text', 'Keep events (days)', 'Older events are deleted (1-36500).', '90', (k) => integer(k, 1, 36500)),
];

export const FIELDS_BY_KEY: ReadonlyMap<string, ConfigField> = new Map(CONFIG_FIELDS.map((f) => [f.key, f]));

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
 * tie keys together (config.ts buildConfig). `values` holds every key.
 */
export function checkAll(values: Readonly<Record<string, string>>): Map<string, string> {
  const errors = new Map<string, string>();
  for (const spec of CONFIG_FIELDS) {
    const error = checkValue(spec.key, values[spec.key] ?? spec.defaultValue);
    if (error !== null) errors.set(spec.key, error);
  }
  if (!errors.has('BLOCK_BACKEND') && values['BLOCK_BACKEND'] === 'command' && (values['KILL_ROUTE'] ?? '').trim() === '') {
    errors.set('BLOCK_BACKEND', 'BLOCK_BACKEND="command" needs a KILL_ROUTE command');
  }
  return errors;
}

/**
 * The value of every key as the helper will run it: the file's value where it sets one,
 * else the default (BLOCK_BACKEND's depends on whether a KILL_ROUTE is set, as in config.ts).
 */
export function effectiveValues(fileValues: Readonly<Record<string, string>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const spec of CONFIG_FIELDS) values[spec.key] = fileValues[spec.key] ?? spec.defaultValue;
  if (fileValues['BLOCK_BACKEND'] === undefined) {
    values['BLOCK_BACKEND'] = (values['KILL_ROUTE'] ?? '').trim() === '' ? 'nftables' : 'command';
  }
  return values;
}

/** Keys whose value differs: what Apply sends, and nothing else. */
export function changedValues(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const spec of CONFIG_FIELDS) {
    const value = after[spec.key];
    if (value !== undefined && value !== before[spec.key]) changes[spec.key] = value;
  }
  return changes;
}
