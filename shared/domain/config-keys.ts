// Every portsentry.conf key, declared once: how its value is parsed and checked, its default,
// who may change it, and how the settings window labels and explains it. The helper's config
// parser, the control protocol's authorization and the settings window are all derived from
// this table, so a key added here is validated the same way everywhere. Pure and node-free.

import { parseCommandTemplate, templateUses, type CommandTemplate } from './command-template.js';
import { parseAddress } from './address.js';
import { printable } from './text.js';
import { ALL_MODES, protocolOfMode, type Mode } from './types.js';

export type BlockLevel = 0 | 1 | 2;
export type BlockBackendName = 'nftables' | 'pf' | 'windows-firewall' | 'command' | 'none';
export const BLOCK_BACKENDS: readonly BlockBackendName[] = ['nftables', 'pf', 'windows-firewall', 'command', 'none'];

/**
 * Who may change a key over the control channel. Operators (members of the control group: the
 * desktop user) tune detection; only root changes what names a program, a file, a socket, a
 * group, a table, a backend or the store, because whoever sets those decides what root runs
 * or writes.
 */
export type KeyAccess = 'operator' | 'root';
/** What a root-only key names, for the sentence that explains a refusal. */
export type RootReason =
  | 'a program'
  | 'a file'
  | 'a socket'
  | 'a group'
  | 'a firewall table'
  | 'a firewall backend'
  | 'the event store'
  | 'a resource bound'
  | 'a server this host connects to'
  | 'a secret'
  | 'what this host tells the fleet'
  | 'a network endpoint'
  | 'the reach of a block'
  | 'how much of the network an operator may block or ignore'
  | 'what counts as a scan';

export type FieldGroup = 'ports' | 'detection' | 'responses' | 'ignore' | 'files';
export type FieldWidget = 'text' | 'flag' | 'block-level' | 'backend' | 'modes' | 'duration';
/** The unit a duration key is stored in (the file keeps PortSentry 1.2's units). */
export type DurationUnit = 'seconds' | 'days';

/** A value that does not fit its key; the message is a whole sentence naming the key. */
export class ConfigValueError extends Error {}

/** How a key's parser is asked: templates from root's own file may name a shell, nothing else may. */
export interface ParseContext {
  /** True only while reading the main config file, which only root can write. */
  readonly trustedFile: boolean;
}

export interface KeyDefinition<Field extends string, Value> {
  /** The name of the value in the helper's typed configuration. */
  readonly field: Field;
  readonly parse: (value: string, key: string, context: ParseContext) => Value;
  /** The value used when no file sets the key, as it would be written in the file. */
  readonly defaultText: string;
  readonly access: KeyAccess;
  /** For root-only keys: what the key names (why it is root's). */
  readonly names?: RootReason;
  readonly group: FieldGroup;
  readonly widget: FieldWidget;
  readonly label: string;
  readonly hint: string;
  /** Never shown as it is (config.get, the settings window): only whether it is set. */
  readonly secret?: true;
  /** For durations (widget 'duration'): the unit the value is stored in. */
  readonly unit?: DurationUnit;
  /**
   * A root key that operators could set in an earlier release: an operator settings file
   * written then may still hold it. Such a line is skipped with a notice rather than refused,
   * so an upgrade never leaves the helper unable to start; any other root key there is an error.
   */
  readonly formerlyOperator?: true;
}

function key<const Field extends string, Value>(definition: KeyDefinition<Field, Value>): KeyDefinition<Field, Value> {
  return definition;
}

// ---------------------------------------------------------------------------------------
// Value parsers (each throws ConfigValueError with a sentence a person understands)

export function portList(value: string, name: string): number[] {
  if (value.trim() === '') return [];
  const ports = value.split(',').map((part) => {
    const text = part.trim();
    if (!/^\d{1,5}$/.test(text)) throw new ConfigValueError(`${name} must be a comma-separated list of ports; "${printable(text)}" is not a port`);
    const port = Number(text);
    if (port < 1 || port > 65535) throw new ConfigValueError(`${name}: port ${port} is outside 1-65535`);
    return port;
  });
  return [...new Set(ports)];
}

/** IP protocol numbers (0-255), comma-separated. */
export function protocolList(value: string, name: string): number[] {
  if (value.trim() === '') return [];
  const protocols = value.split(',').map((part) => {
    const text = part.trim();
    if (!/^\d{1,3}$/.test(text) || Number(text) > 255) throw new ConfigValueError(`${name} must be a comma-separated list of IP protocol numbers (0-255); "${printable(text)}" is not one`);
    return Number(text);
  });
  return [...new Set(protocols)];
}

function integer(min: number, max: number) {
  const parse = (value: string, name: string): number => {
    const text = value.trim();
    if (!/^\d{1,12}$/.test(text)) throw new ConfigValueError(`${name} must be a whole number, not "${printable(value)}"`);
    const number = Number(text);
    if (number < min || number > max) throw new ConfigValueError(`${name} must be between ${min} and ${max}, not ${number}`);
    return number;
  };
  // The bounds travel with the parser, so a form (durations in the settings window) can say
  // them in its own units without a second copy of the numbers.
  return Object.assign(parse, { range: [min, max] as const });
}

/** The [min, max] of a whole-number key, in its stored unit; null for other keys. */
export function integerRange(name: ConfigKey): readonly [number, number] | null {
  return (CONFIG_KEYS[name].parse as { range?: readonly [number, number] }).range ?? null;
}

function flag(value: string, name: string): boolean {
  const text = value.trim();
  if (text === '0') return false;
  if (text === '1') return true;
  throw new ConfigValueError(`${name} must be "0" or "1", not "${printable(value)}"`);
}

function blockLevel(value: string, name: string): BlockLevel {
  const text = value.trim();
  if (text === '0' || text === '1' || text === '2') return Number(text) as BlockLevel;
  throw new ConfigValueError(`${name} must be "0" (report only), "1" (block) or "2" (run KILL_RUN_CMD only), not "${printable(value)}"`);
}

/** An absolute path: POSIX (/...) or Windows (C:\...), without NUL or parent-directory steps. */
export function isAbsolutePath(value: string): boolean {
  if (value.includes('\0')) return false;
  if (!(value.startsWith('/') || /^[A-Za-z]:\\/.test(value))) return false;
  return !value.split(/[\\/]/).includes('..');
}

function absolutePath(value: string, name: string): string {
  if (!isAbsolutePath(value)) throw new ConfigValueError(`${name} must be an absolute path (no ".." steps), not "${printable(value)}"`);
  return value;
}

const NAMED_PIPE = /^\\\\[.?]\\pipe\\[A-Za-z0-9_.-]{1,200}$/;

function optionalPath(value: string, name: string): string {
  return value === '' ? value : absolutePath(value, name);
}

/** A socket path, a Windows named pipe, or "" (off). */
function socketPath(value: string, name: string): string {
  return value === '' || NAMED_PIPE.test(value) ? value : absolutePath(value, name);
}

function groupName(value: string, name: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(value)) throw new ConfigValueError(`${name} must be a group name (lower case letters, digits, _ and -), not "${printable(value)}"`);
  return value;
}

function command(needsTarget: boolean) {
  return (value: string, name: string, context: ParseContext): CommandTemplate | null => {
    if (value.trim() === '') return null;
    const result = parseCommandTemplate(value, { allowCodeRunner: context.trustedFile });
    if (!result.ok) throw new ConfigValueError(`${name} ${result.message}`);
    if (needsTarget && !templateUses(result.template, '$TARGET$')) {
      throw new ConfigValueError(`${name} must contain $TARGET$, where the scanner's address goes`);
    }
    return result.template;
  };
}

function hostsDenyLine(value: string, name: string): string | null {
  if (value.trim() === '') return null;
  if (!value.includes('$TARGET$')) throw new ConfigValueError(`${name} must contain $TARGET$, where the scanner's address goes`);
  return value;
}

export type ScanScoring = 'lan' | 'classic';

function repeatFormula(value: string, name: string): 'exponential' | 'linear' {
  const text = value.trim();
  if (text === 'exponential' || text === 'linear') return text;
  throw new ConfigValueError(`${name} must be "exponential" or "linear", not "${printable(value)}"`);
}

function scoringName(value: string, name: string): ScanScoring {
  const text = value.trim();
  if (text === 'lan' || text === 'classic') return text;
  throw new ConfigValueError(`${name} must be "lan" (a lone LAN service touch from an on-link neighbour is reported) or "classic" (every probe counts, as in 1.2), not "${printable(value)}"`);
}

/** HOST_DISCOVERY: what a host discovery sweep (ICMP echo, timestamp, address mask) gets (engine/host-discovery.ts). */
export type HostDiscovery = 'off' | 'report' | 'block';

function hostDiscoveryName(value: string, name: string): HostDiscovery {
  const text = value.trim();
  if (text === 'off' || text === 'report' || text === 'block') return text;
  throw new ConfigValueError(`${name} must be "off", "report" (log and record a sweep) or "block" (block its sender too), not "${printable(value)}"`);
}

function backendName(value: string, name: string): BlockBackendName {
  if ((BLOCK_BACKENDS as readonly string[]).includes(value)) return value as BlockBackendName;
  throw new ConfigValueError(`${name} must be "nftables", "pf" (macOS), "windows-firewall", "command" (run KILL_ROUTE) or "none", not "${printable(value)}"`);
}

/** An nftables table name we create: what NFT_TABLE accepts, and what the backend checks again. */
export const NFT_TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

function nftIdentifier(value: string, name: string): string {
  if (!NFT_TABLE_NAME.test(value)) throw new ConfigValueError(`${name} must be a letter followed by up to 31 letters, digits or underscores`);
  return value;
}

function token(pattern: RegExp, what: string) {
  return (value: string, name: string): string => {
    if (!pattern.test(value)) throw new ConfigValueError(`${name} must be ${what}`);
    return value;
  };
}

/** A plain http(s)://host[:port][/path] URL: no credentials, query or fragment to smuggle in. */
function serverUrl(value: string, name: string): string {
  if (value === '') return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigValueError(`${name} must be an http:// or https:// URL, not "${printable(value)}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || value.length > 512) {
    throw new ConfigValueError(`${name} must be an http:// or https:// URL without user, password, query or fragment`);
  }
  return value.replace(/\/+$/, '');
}

function listenAddress(value: string, name: string): string {
  if (value === '') return '';
  const address = parseAddress(value);
  if (address === null) throw new ConfigValueError(`${name} must be an IPv4 or IPv6 address to listen on (or empty for off), not "${printable(value)}"`);
  return address.address;
}

const SECRET_TEXT = token(/^[\x21-\x7e]{0,256}$/, 'printable characters without spaces (at most 256)');

/** A remote syslog server, "host:port" or "[IPv6]:port"; the host an address or a DNS name. */
export function parseRemoteSyslog(value: string, name: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  const bad = match === null || host === undefined || port < 1 || port > 65535 || (match[1] !== undefined && parseAddress(match[1]) === null) || host.startsWith('-') || host.startsWith('.');
  if (bad) throw new ConfigValueError(`${name} must be host:port or [IPv6 address]:port (a syslog server), not "${printable(value)}"`);
  return { host, port };
}

function remoteSyslog(value: string, name: string): string {
  if (value === '') return '';
  parseRemoteSyslog(value, name);
  return value;
}

/** How an already blocked source's further probes are logged (REPEAT_LOG). */
export type RepeatLog = 'every' | 'minute';

function repeatLog(value: string, name: string): RepeatLog {
  const text = value.trim();
  if (text === 'every' || text === 'minute') return text;
  throw new ConfigValueError(`${name} must be "every" (log every probe, as PortSentry 1.2) or "minute" (once a minute per source), not "${printable(value)}"`);
}

function banner(value: string): string | null {
  return value === '' ? null : value;
}

/**
 * MODES: the detection modes to run when portsentryd is started without mode flags, e.g.
 * "tcp udp" or "atcp,audp". Known modes only, at least one, and at most one TCP and one UDP
 * mode: two TCP modes would watch (or bind) the same ports twice.
 */
export function modeList(value: string, name: string): Mode[] {
  const words = value.trim() === '' ? [] : value.trim().split(/[\s,]+/);
  if (words.length === 0) throw new ConfigValueError(`${name} must name at least one mode (tcp, udp, stcp, sudp, atcp, audp)`);
  const modes: Mode[] = [];
  for (const word of words) {
    const mode = word.replace(/^-/, '') as Mode;
    if (!ALL_MODES.includes(mode)) throw new ConfigValueError(`${name}: "${printable(word).slice(0, 20)}" is not a mode (tcp, udp, stcp, sudp, atcp, audp)`);
    const same = modes.find((other) => protocolOfMode(other) === protocolOfMode(mode));
    if (same !== undefined) {
      throw new ConfigValueError(same === mode ? `${name} names ${mode} twice` : `${name} may hold one ${protocolOfMode(mode).toUpperCase()} mode, not both ${same} and ${mode}`);
    }
    modes.push(mode);
  }
  return modes;
}

// ---------------------------------------------------------------------------------------
// The table

/** Default paths of our own package (never a classic portsentry's files). */
export const DEFAULT_STATE_DIRECTORY = '/var/lib/portsentry-desktop';
export const DEFAULT_RPC_SOCKET = '/run/portsentry-desktop/helper.sock';
export const DEFAULT_RPC_ADMIN_SOCKET = '/run/portsentry-desktop/admin/helper.sock';

export const CONFIG_KEYS = {
  // What portsentryd runs when started without mode flags (the packaged services pass none).
  MODES: key({
    field: 'modes',
    parse: modeList,
    defaultText: 'tcp udp',
    access: 'operator',
    group: 'detection',
    widget: 'modes',
    label: 'Detection modes',
    hint: 'One TCP and one UDP mode: tripwire ports (tcp, udp), stealth watching of those ports (stcp, sudp), or every unused port (atcp, audp). Mode flags on the command line win over this.',
  }),
  TCP_PORTS: key({
    field: 'tcpPorts',
    parse: portList,
    defaultText: '',
    access: 'operator',
    group: 'ports',
    widget: 'text',
    label: 'TCP tripwire ports',
    hint: 'Comma-separated; any connection to one of these counts as a scan.',
  }),
  UDP_PORTS: key({
    field: 'udpPorts',
    parse: portList,
    defaultText: '',
    access: 'operator',
    group: 'ports',
    widget: 'text',
    label: 'UDP tripwire ports',
    hint: 'Comma-separated; any packet to one of these counts as a scan.',
  }),
  ADVANCED_PORTS_TCP: key({
    field: 'advancedPortsTcp',
    parse: integer(1, 65535),
    defaultText: '1024',
    access: 'operator',
    group: 'ports',
    widget: 'text',
    label: 'Watch TCP ports below',
    hint: 'Advanced and stealth modes watch every TCP port under this number (1-65535).',
  }),
  ADVANCED_PORTS_UDP: key({
    field: 'advancedPortsUdp',
    parse: integer(1, 65535),
    defaultText: '1024',
    access: 'operator',
    group: 'ports',
    widget: 'text',
    label: 'Watch UDP ports below',
    hint: 'Advanced modes watch every UDP port under this number (1-65535).',
  }),
  ADVANCED_EXCLUDE_TCP: key({
    field: 'advancedExcludeTcp',
    parse: portList,
    defaultText: '',
    access: 'operator',
    group: 'ports',
    widget: 'text',
    label: 'TCP ports to leave alone',
    hint: 'Comma-separated; advanced mode never reacts to these (e.g. ident).',
  }),
  ADVANCED_EXCLUDE_UDP: key({
    field: 'advancedExcludeUdp',
    parse: portList,
    defaultText: '',
    access: 'operator',
    group: 'ports',
    widget: 'text',
    label: 'UDP ports to leave alone',
    hint: 'Comma-separated; advanced mode never reacts to these (e.g. DHCP, NetBIOS).',
  }),

  SCAN_TRIGGER: key({
    field: 'scanTrigger',
    parse: integer(0, 1000),
    defaultText: '0',
    access: 'operator',
    group: 'detection',
    widget: 'text',
    label: 'Touches before acting',
    hint: 'Act at the Nth touch from one host; 0 and 1 both mean the first (0-1000).',
  }),
  SCAN_TRIGGER_WINDOW: key({
    field: 'scanTriggerWindowSeconds',
    parse: integer(1, 30 * 86400),
    defaultText: '3600',
    access: 'operator',
    group: 'detection',
    widget: 'duration',
    unit: 'seconds',
    label: 'Counting window',
    hint: 'Touches from one host are counted over this span (1 second to 30 days).',
  }),
  // Absent (every PortSentry 1.2 config) means 1.2's policy; our own shipped config says "minute".
  REPEAT_LOG: key({
    field: 'repeatLog',
    parse: repeatLog,
    defaultText: 'every',
    access: 'operator',
    group: 'detection',
    widget: 'text',
    label: 'Log repeats from a blocked host',
    hint: '"every": each probe from an already blocked host is logged, as PortSentry 1.2 did (logwatch lists every port); "minute": at most one line a minute per host.',
  }),
  STATE_MAX_SOURCES: key({
    field: 'stateMaxSources',
    parse: integer(16, 50_000_000),
    defaultText: '65536',
    access: 'root',
    names: 'a resource bound',
    group: 'detection',
    widget: 'text',
    label: 'Hosts remembered at most',
    hint: "Bound on hosts the counter tracks, and so on the helper's memory; the least recently seen are forgotten (16-50000000).",
  }),
  // Root's, like BLOCK_SET_SIZE: at 0 (no limit) a spoofed flood from one /24 or /64 fills the
  // block sets and evicts the real scanners' blocks.
  BLOCK_RATE_PER_PREFIX: key({
    field: 'blockRatePerPrefix',
    parse: integer(0, 1_000_000),
    defaultText: '64',
    access: 'root',
    names: 'a resource bound',
    formerlyOperator: true,
    group: 'detection',
    widget: 'text',
    label: 'New blocks a minute per network',
    hint: 'At most this many new blocks a minute from one IPv4 /24 or IPv6 /64, so a spoofed flood cannot fill the block sets (0: no limit).',
  }),
  // How a probe is judged (engine/scan-score.ts). Root's: an operator (the desktop user's
  // process) must not be able to make a real scan count as a neighbour's discovery traffic.
  SCAN_SCORING: key({
    field: 'scanScoring',
    parse: scoringName,
    defaultText: 'lan',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'How probes are judged',
    hint: '"lan": a lone touch of a LAN service port from an on-link neighbour is reported, not blocked; "classic": every probe counts, as in PortSentry 1.2.',
  }),
  // Host discovery sweeps (engine/host-discovery.ts): reported by default; root's, as the
  // other keys of what counts as a scan, since "block" blackholes whoever pings.
  HOST_DISCOVERY: key({
    field: 'hostDiscovery',
    parse: hostDiscoveryName,
    defaultText: 'report',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'Host discovery sweeps',
    hint: '"report": an ICMP echo (from off-link), timestamp or address-mask request is logged as a sweep, nobody blocked; "block": its sender is blocked too; "off": not watched.',
  }),
  SCAN_SCORE_THRESHOLD: key({
    field: 'scanScoreThreshold',
    parse: integer(1, 1000),
    defaultText: '4',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'Score that makes a scan',
    hint: 'A host is acted on once the weights of the distinct ports it touched within the counting window reach this (1-1000).',
  }),
  SCAN_SCORE_PORT: key({
    field: 'scanScorePort',
    parse: integer(0, 1000),
    defaultText: '4',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'Weight of a watched port',
    hint: 'Weight of a touch of any watched port that is not an on-link neighbour touching a LAN service port; at or above the threshold it acts at once (0-1000).',
  }),
  SCAN_SCORE_LAN_SERVICE: key({
    field: 'scanScoreLanService',
    parse: integer(0, 1000),
    defaultText: '2',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'Weight of a LAN service touch',
    hint: "Weight of an on-link neighbour's touch of a LAN service port, counted once per service (0-1000).",
  }),
  LAN_SERVICE_PORTS_TCP: key({
    field: 'lanServicePortsTcp',
    parse: portList,
    defaultText: '139,445,631,1716,2869,3702,5353,5355,5357,17500,27036,57621',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'LAN service ports (TCP)',
    hint: 'TCP ports a neighbour on this link touches in normal use (SMB, IPP, KDE Connect...): a lone touch is reported, not blocked.',
  }),
  LAN_SERVICE_PORTS_UDP: key({
    field: 'lanServicePortsUdp',
    parse: portList,
    defaultText: '67,68,137,138,161,162,1716,1900,3702,5353,5355,17500,27036,57621',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'LAN service ports (UDP)',
    hint: 'UDP ports a neighbour on this link touches in normal use (NetBIOS, DHCP, SNMP, SSDP, mDNS...): a lone touch is reported, not blocked.',
  }),
  IP_PROTOCOLS_IN_USE: key({
    field: 'ipProtocolsInUse',
    parse: protocolList,
    defaultText: '',
    access: 'root',
    names: 'what counts as a scan',
    group: 'detection',
    widget: 'text',
    label: 'IP protocols in use here',
    hint: 'IP protocol numbers this host uses beyond the usual ones (a tunnel or routing daemon of its own): their packets are never taken for an IP protocol scan.',
  }),
  IPV6: key({
    field: 'ipv6',
    parse: flag,
    defaultText: '1',
    access: 'operator',
    group: 'detection',
    widget: 'flag',
    label: 'Watch IPv6 too',
    hint: 'Tripwires and detection on IPv6 as well as IPv4.',
  }),
  KERNEL_TRAP: key({
    field: 'kernelTrap',
    parse: flag,
    defaultText: '1',
    access: 'operator',
    group: 'detection',
    widget: 'flag',
    label: 'Block the first probe in the kernel',
    hint: 'Stealth and advanced modes: the scanner is blocked by nftables on its first probe, before any reply reveals a port.',
  }),
  SCAN_SUMMARY_LOG: key({
    field: 'scanSummaryLog',
    parse: flag,
    defaultText: '0',
    access: 'operator',
    group: 'detection',
    widget: 'flag',
    label: 'One log line per scan',
    hint: "Beside the per-probe lines, one summary line per scan (host, probes, ports, kinds, what was done); off keeps 1.2's log as it was.",
  }),
  RESOLVE_HOST: key({
    field: 'resolveHost',
    parse: flag,
    defaultText: '0',
    access: 'operator',
    group: 'detection',
    widget: 'flag',
    label: 'Look up scanner names',
    hint: 'Show the reverse DNS name of each scanner (slower).',
  }),

  // As in the original, a config that does not ask for blocking only reports.
  BLOCK_TCP: key({
    field: 'blockTcp',
    parse: blockLevel,
    defaultText: '0',
    access: 'operator',
    group: 'responses',
    widget: 'block-level',
    label: 'Answer to TCP scans',
    hint: 'Report only, block the scanner, or only run the extra command.',
  }),
  BLOCK_UDP: key({
    field: 'blockUdp',
    parse: blockLevel,
    defaultText: '0',
    access: 'operator',
    group: 'responses',
    widget: 'block-level',
    label: 'Answer to UDP scans',
    hint: 'Report only, block the scanner, or only run the extra command.',
  }),
  // Resource bound and reach of a block: an operator could otherwise make a flood evict real
  // blocks (a tiny set) or make one IPv6 scanner blackhole a whole provider (a short prefix).
  BLOCK_SET_SIZE: key({
    field: 'blockSetSize',
    parse: integer(1024, 16_000_000),
    defaultText: '1000000',
    access: 'root',
    names: 'a resource bound',
    group: 'responses',
    widget: 'text',
    label: 'Blocked addresses per family at most',
    hint: 'Size of each nftables blocked set; when full, the soonest to expire, then the oldest, are evicted (1024-16000000).',
  }),
  BLOCK_PREFIX6: key({
    field: 'blockPrefix6',
    parse: integer(16, 128),
    defaultText: '64',
    access: 'root',
    names: 'the reach of a block',
    group: 'responses',
    widget: 'text',
    label: 'IPv6 block width (prefix bits)',
    hint: 'An IPv6 scanner is blocked by its network of this many bits; 128 blocks the host alone (16-128).',
  }),
  // Operator bounds: the desktop user may block and ignore, but never cut the host off the
  // network or switch protection off unseen. The helper enforces these, not the page; root is
  // not bound by them. The totals stop many narrow prefixes that add up to everything.
  OPERATOR_BLOCK_PREFIX4: key({
    field: 'operatorBlockPrefix4',
    parse: integer(0, 32),
    defaultText: '16',
    access: 'root',
    names: 'how much of the network an operator may block or ignore',
    group: 'responses',
    widget: 'text',
    label: 'Widest IPv4 block an operator may add (prefix bits)',
    hint: 'An operator (the desktop user) may block an IPv4 prefix of at least this many bits; root may block any (0-32).',
  }),
  OPERATOR_BLOCK_PREFIX6: key({
    field: 'operatorBlockPrefix6',
    parse: integer(0, 128),
    defaultText: '48',
    access: 'root',
    names: 'how much of the network an operator may block or ignore',
    group: 'responses',
    widget: 'text',
    label: 'Widest IPv6 block an operator may add (prefix bits)',
    hint: 'An operator may block an IPv6 prefix of at least this many bits; root may block any (0-128).',
  }),
  OPERATOR_IGNORE_PREFIX4: key({
    field: 'operatorIgnorePrefix4',
    parse: integer(0, 32),
    defaultText: '16',
    access: 'root',
    names: 'how much of the network an operator may block or ignore',
    group: 'ignore',
    widget: 'text',
    label: 'Widest IPv4 ignore entry an operator may add (prefix bits)',
    hint: 'An operator may add an IPv4 ignore entry of at least this many bits; root may add any (0-32).',
  }),
  OPERATOR_IGNORE_PREFIX6: key({
    field: 'operatorIgnorePrefix6',
    parse: integer(0, 128),
    defaultText: '48',
    access: 'root',
    names: 'how much of the network an operator may block or ignore',
    group: 'ignore',
    widget: 'text',
    label: 'Widest IPv6 ignore entry an operator may add (prefix bits)',
    hint: 'An operator may add an IPv6 ignore entry of at least this many bits; root may add any (0-128).',
  }),
  OPERATOR_RANGE_TOTAL4: key({
    field: 'operatorRangeTotal4',
    parse: integer(0, 32),
    defaultText: '8',
    access: 'root',
    names: 'how much of the network an operator may block or ignore',
    group: 'responses',
    widget: 'text',
    label: 'IPv4 addresses all ranges may cover, as a prefix',
    hint: 'An operator may add an IPv4 range block (or ignore entry) only while all such ranges together cover no more addresses than one prefix of this many bits (8: 16,777,216) (0-32).',
  }),
  OPERATOR_RANGE_TOTAL6: key({
    field: 'operatorRangeTotal6',
    parse: integer(0, 128),
    defaultText: '32',
    access: 'root',
    names: 'how much of the network an operator may block or ignore',
    group: 'responses',
    widget: 'text',
    label: 'IPv6 addresses all ranges may cover, as a prefix',
    hint: 'An operator may add an IPv6 range block (or ignore entry) only while all such ranges together cover no more addresses than one prefix of this many bits (0-128).',
  }),
  BLOCK_TIMEOUT: key({
    field: 'blockTimeoutSeconds',
    parse: integer(0, 10 * 365 * 86400),
    defaultText: '0',
    access: 'operator',
    group: 'responses',
    widget: 'duration',
    unit: 'seconds',
    label: 'Block lasts',
    hint: '0 blocks until you unblock by hand; at most 3650 days.',
  }),
  // Root's, like BLOCK_PREFIX6: how far a block reaches (here in time).
  BLOCK_REPEAT_FACTOR: key({
    field: 'blockRepeatFactor',
    parse: integer(0, 1000),
    defaultText: '1',
    access: 'root',
    names: 'the reach of a block',
    group: 'responses',
    widget: 'text',
    label: 'Repeat offenders: factor',
    hint: 'A host blocked again after its block lapsed gets a longer block, by this factor in the formula (0: the same block as anyone; 0-1000).',
  }),
  BLOCK_REPEAT_FORMULA: key({
    field: 'blockRepeatFormula',
    parse: repeatFormula,
    defaultText: 'exponential',
    access: 'root',
    names: 'the reach of a block',
    group: 'responses',
    widget: 'text',
    label: 'Repeat offenders: formula',
    hint: '"exponential": BLOCK_TIMEOUT x factor x 2^(earlier blocks), as fail2ban; "linear": BLOCK_TIMEOUT x (1 + factor x earlier blocks).',
  }),
  BLOCK_REPEAT_MAX: key({
    field: 'blockRepeatMaxSeconds',
    parse: integer(0, 10 * 365 * 86400),
    defaultText: '604800',
    access: 'root',
    names: 'the reach of a block',
    group: 'responses',
    widget: 'duration',
    unit: 'seconds',
    label: 'Repeat offenders: longest block',
    hint: 'The longest block a repeat offender gets (0: no maximum; at most 3650 days).',
  }),
  PORT_BANNER: key({
    field: 'portBanner',
    parse: banner,
    defaultText: '',
    access: 'operator',
    group: 'responses',
    widget: 'text',
    label: 'Banner sent to scanners',
    hint: 'Text written to a connecting scanner. Empty for none.',
  }),
  // The default depends on KILL_ROUTE (see resolveBlockBackend); nftables is what an empty config gets.
  BLOCK_BACKEND: key({
    field: 'blockBackend',
    parse: backendName,
    defaultText: 'nftables',
    access: 'root',
    names: 'a firewall backend',
    group: 'responses',
    widget: 'backend',
    label: 'How to block',
    hint: 'Our nftables table (Linux), a pf table (macOS), Windows Firewall rules, the KILL_ROUTE command, or no route-level block.',
  }),
  NFT_TABLE: key({
    field: 'nftTable',
    parse: nftIdentifier,
    defaultText: 'portsentry',
    access: 'root',
    names: 'a firewall table',
    group: 'responses',
    widget: 'text',
    label: 'nftables table name',
    hint: 'The table inet <name> that holds the blocked sets.',
  }),
  KILL_ROUTE: key({
    field: 'killRoute',
    parse: command(true),
    defaultText: '',
    access: 'root',
    names: 'a program',
    group: 'responses',
    widget: 'text',
    label: 'Block command',
    hint: 'Runs without a shell; must contain $TARGET$. Empty for none.',
  }),
  KILL_HOSTS_DENY: key({
    field: 'killHostsDeny',
    parse: hostsDenyLine,
    defaultText: '',
    access: 'root',
    names: 'a file',
    group: 'responses',
    widget: 'text',
    label: 'hosts.deny line',
    hint: 'Added to hosts.deny for each scanner; must contain $TARGET$. Empty for none.',
  }),
  HOSTS_DENY_FILE: key({
    field: 'hostsDenyFile',
    parse: absolutePath,
    defaultText: '/etc/hosts.deny',
    access: 'root',
    names: 'a file',
    group: 'responses',
    widget: 'text',
    label: 'hosts.deny file',
    hint: 'Absolute path of the TCP wrappers file.',
  }),
  KILL_RUN_CMD: key({
    field: 'killRunCmd',
    parse: command(false),
    defaultText: '',
    access: 'root',
    names: 'a program',
    group: 'responses',
    widget: 'text',
    label: 'Extra command',
    hint: 'Runs without a shell on each scan ($TARGET$, $PORT$, $MODE$). Empty for none.',
  }),
  KILL_RUN_CMD_FIRST: key({
    field: 'killRunCmdFirst',
    parse: flag,
    defaultText: '0',
    access: 'root',
    names: 'a program',
    group: 'responses',
    widget: 'flag',
    label: 'Run the extra command before blocking',
    hint: 'Otherwise it runs after the block.',
  }),

  IGNORE_FILE: key({
    field: 'ignoreFile',
    parse: absolutePath,
    defaultText: '/etc/portsentry-desktop/portsentry.ignore',
    access: 'root',
    names: 'a file',
    group: 'ignore',
    widget: 'text',
    label: 'Ignore list file',
    hint: 'Absolute path of the file listing hosts never to block.',
  }),

  // Where fail2ban's stock portsentry jail reads it (logpath = /var/lib/portsentry/portsentry.history).
  HISTORY_FILE: key({
    field: 'historyFile',
    parse: absolutePath,
    defaultText: '/var/lib/portsentry/portsentry.history',
    access: 'root',
    names: 'a file',
    group: 'files',
    widget: 'text',
    label: 'History file',
    hint: 'Absolute path; one line per attack, as classic PortSentry wrote.',
  }),
  BLOCKED_FILE: key({
    field: 'blockedFile',
    parse: absolutePath,
    defaultText: `${DEFAULT_STATE_DIRECTORY}/portsentry.blocked`,
    access: 'root',
    names: 'a file',
    group: 'files',
    widget: 'text',
    label: 'Blocked hosts file',
    hint: 'Absolute path; the mode is appended (.tcp, .udp...).',
  }),
  SYSLOG_SOCKET: key({
    field: 'syslogSocket',
    parse: absolutePath,
    defaultText: '/dev/log',
    access: 'root',
    names: 'a socket',
    group: 'files',
    widget: 'text',
    label: 'Syslog socket',
    hint: 'Where log lines go.',
  }),
  // Structured output (each off when empty): see README "Structured output".
  JSON_LOG_FILE: key({
    field: 'jsonLogFile',
    parse: optionalPath,
    defaultText: '',
    access: 'root',
    names: 'a file',
    group: 'files',
    widget: 'text',
    label: 'JSON lines file',
    hint: 'Absolute path; one JSON object per event (schema v1). Empty turns it off.',
  }),
  RFC5424_FILE: key({
    field: 'rfc5424File',
    parse: optionalPath,
    defaultText: '',
    access: 'root',
    names: 'a file',
    group: 'files',
    widget: 'text',
    label: 'RFC 5424 file',
    hint: 'Absolute path; one RFC 5424 syslog message with structured data per event. Empty turns it off.',
  }),
  SYSLOG_REMOTE: key({
    field: 'syslogRemote',
    parse: remoteSyslog,
    defaultText: '',
    access: 'root',
    names: 'a server this host connects to',
    group: 'files',
    widget: 'text',
    label: 'Remote syslog',
    hint: 'host:port of a syslog server that takes RFC 5424 over TCP (octet-counted); empty turns it off.',
  }),
  SYSLOG_REMOTE_TLS: key({
    field: 'syslogRemoteTls',
    parse: flag,
    defaultText: '0',
    access: 'root',
    names: 'a server this host connects to',
    group: 'files',
    widget: 'flag',
    label: 'Remote syslog over TLS',
    hint: 'RFC 5425: TLS, the server certificate checked against SYSLOG_REMOTE_CA or the system CAs.',
  }),
  SYSLOG_REMOTE_CA: key({
    field: 'syslogRemoteCa',
    parse: optionalPath,
    defaultText: '',
    access: 'root',
    names: 'a file',
    group: 'files',
    widget: 'text',
    label: 'Remote syslog CA file',
    hint: 'Absolute path of the PEM CA the server certificate must chain to; empty: the system CAs.',
  }),
  RPC_SOCKET: key({
    field: 'rpcSocket',
    parse: socketPath,
    defaultText: DEFAULT_RPC_SOCKET,
    access: 'root',
    names: 'a socket',
    group: 'files',
    widget: 'text',
    label: 'Control socket',
    hint: 'This app talks to the helper here (members of the control group). Empty turns it off.',
  }),
  RPC_ADMIN_SOCKET: key({
    field: 'rpcAdminSocket',
    parse: socketPath,
    defaultText: DEFAULT_RPC_ADMIN_SOCKET,
    access: 'root',
    names: 'a socket',
    group: 'files',
    widget: 'text',
    label: 'Admin control socket',
    hint: "Root's own channel (portsentryctl run as root); only root can open it. Empty turns it off.",
  }),
  RPC_GROUP: key({
    field: 'rpcGroup',
    parse: groupName,
    defaultText: 'portsentry',
    access: 'root',
    names: 'a group',
    group: 'files',
    widget: 'text',
    label: 'Control group',
    hint: 'Members of this group may use the control socket as operators.',
  }),
  STORE_FILE: key({
    field: 'storeFile',
    parse: optionalPath,
    defaultText: `${DEFAULT_STATE_DIRECTORY}/events.db`,
    access: 'root',
    names: 'the event store',
    group: 'files',
    widget: 'text',
    label: 'Event database',
    hint: 'Absolute path of the events store. Empty keeps events in memory only.',
  }),
  OPERATOR_SETTINGS_FILE: key({
    field: 'operatorSettingsFile',
    parse: optionalPath,
    defaultText: `${DEFAULT_STATE_DIRECTORY}/operator-settings.conf`,
    access: 'root',
    names: 'a file',
    group: 'files',
    widget: 'text',
    label: 'Operator settings file',
    hint: 'Detection settings changed from the app are kept here and read after the main config. Empty: only root can change settings.',
  }),
  EVENT_RETENTION_DAYS: key({
    field: 'eventRetentionDays',
    parse: integer(1, 36500),
    defaultText: '90',
    access: 'operator',
    group: 'files',
    widget: 'duration',
    unit: 'days',
    label: 'Keep events for',
    hint: 'Older events are deleted (1 to 36500 days).',
  }),

  // Fleet (CrowdSec) and metrics (Prometheus); see privileged-helper/fleet/. Sharing is the one
  // switch an operator may flip; where to connect, the credentials and what is sent are root's.
  FLEET_SHARING: key({
    field: 'fleetSharing',
    parse: flag,
    defaultText: '0',
    access: 'operator',
    group: 'responses',
    widget: 'flag',
    label: 'Share blocks with the fleet',
    hint: "Send this host's blocks to CrowdSec and apply the other machines' bans (needs the fleet settings below, set by root).",
  }),
  FLEET_LAPI_URL: key({
    field: 'fleetLapiUrl',
    parse: serverUrl,
    defaultText: '',
    access: 'root',
    names: 'a server this host connects to',
    group: 'responses',
    widget: 'text',
    label: 'CrowdSec Local API',
    hint: "http(s)://host:port of the fleet's CrowdSec LAPI. Empty: no fleet.",
  }),
  FLEET_MACHINE_ID: key({
    field: 'fleetMachineId',
    parse: token(/^[A-Za-z0-9._@-]{0,128}$/, 'letters, digits, . _ @ - (at most 128)'),
    defaultText: '',
    access: 'root',
    names: 'a secret',
    group: 'responses',
    widget: 'text',
    label: 'CrowdSec machine name',
    hint: "From cscli machines add; used to send this host's blocks.",
  }),
  FLEET_MACHINE_PASSWORD: key({
    field: 'fleetMachinePassword',
    parse: SECRET_TEXT,
    defaultText: '',
    access: 'root',
    names: 'a secret',
    secret: true,
    group: 'responses',
    widget: 'text',
    label: 'CrowdSec machine password',
    hint: 'Secret; shown only as set or not.',
  }),
  FLEET_BOUNCER_KEY: key({
    field: 'fleetBouncerKey',
    parse: SECRET_TEXT,
    defaultText: '',
    access: 'root',
    names: 'a secret',
    secret: true,
    group: 'responses',
    widget: 'text',
    label: 'CrowdSec bouncer key',
    hint: "From cscli bouncers add; used to receive the fleet's bans. Secret; shown only as set or not.",
  }),
  FLEET_SCENARIO: key({
    field: 'fleetScenario',
    parse: token(/^[a-z0-9_-]{1,64}\/[a-z0-9_.-]{1,64}$/, 'author/name in lower case, e.g. portsentry/port-scan'),
    defaultText: 'portsentry/port-scan',
    access: 'root',
    names: 'what this host tells the fleet',
    group: 'responses',
    widget: 'text',
    label: 'Scenario name',
    hint: "How this host's bans are labelled in CrowdSec.",
  }),
  // What CrowdSec's own agents write; `cscli decisions list` shows these without -a.
  FLEET_ORIGIN: key({
    field: 'fleetOrigin',
    parse: token(/^[a-z0-9_-]{1,32}$/, 'lower case letters, digits, _ and - (at most 32)'),
    defaultText: 'crowdsec',
    access: 'root',
    names: 'what this host tells the fleet',
    group: 'responses',
    widget: 'text',
    label: 'Decision origin',
    hint: 'The origin field of the bans sent.',
  }),
  FLEET_DECISION_DURATION: key({
    field: 'fleetDecisionSeconds',
    parse: integer(60, 31_536_000),
    defaultText: '14400',
    access: 'root',
    names: 'what this host tells the fleet',
    group: 'responses',
    widget: 'duration',
    unit: 'seconds',
    label: 'Fleet ban lasts',
    hint: 'How long the bans this host sends last (1 minute to 365 days).',
  }),
  METRICS_ADDRESS: key({
    field: 'metricsAddress',
    parse: listenAddress,
    defaultText: '',
    access: 'root',
    names: 'a network endpoint',
    group: 'files',
    widget: 'text',
    label: 'Prometheus address',
    hint: 'IP address the metrics endpoint listens on; empty turns it off.',
  }),
  METRICS_PORT: key({
    field: 'metricsPort',
    parse: integer(1, 65535),
    defaultText: '9469',
    access: 'root',
    names: 'a network endpoint',
    group: 'files',
    widget: 'text',
    label: 'Prometheus port',
    hint: 'Port of the metrics endpoint (1-65535).',
  }),
} as const;

type Table = typeof CONFIG_KEYS;
export type ConfigKey = keyof Table;
export type AnyKeyDefinition = Table[ConfigKey];

/** Every key's typed value, under its field name: the helper's configuration derives from this. */
export type ConfigValues = { readonly [K in ConfigKey as Table[K]['field']]: ReturnType<Table[K]['parse']> };

export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

/** Own-property lookup, so "constructor", "__proto__" or "toString" are never mistaken for keys. */
export function isConfigKey(name: string): name is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, name);
}

export function keyDefinition(name: string): AnyKeyDefinition | undefined {
  return isConfigKey(name) ? CONFIG_KEYS[name] : undefined;
}

/** Keys whose value is never shown, only whether it is set. */
export const SECRET_KEYS: readonly ConfigKey[] = CONFIG_KEY_NAMES.filter((name) => (CONFIG_KEYS[name] as { secret?: true }).secret === true);

/** Keys an operator may change over the control channel. */
export function operatorMayChange(name: string): boolean {
  return keyDefinition(name)?.access === 'operator';
}

/** The sentence an operator gets for a root-only key (and the settings window shows). */
export function rootOnlyReason(name: ConfigKey, mainConfigFile: string | null): string {
  const definition = CONFIG_KEYS[name];
  const where = mainConfigFile === null ? 'the config file (start the helper with -c FILE)' : mainConfigFile;
  return `${name} names ${definition.names ?? 'something only root decides'}, so only root may change it: edit ${where} as root and reload (SIGHUP), or run "sudo portsentryctl config set ${name}=..."`;
}

/** The sentence an operator gets when root has turned the operator settings file off. */
export function operatorSettingsOffReason(mainConfigFile: string | null): string {
  const where = mainConfigFile === null ? 'the config file' : mainConfigFile;
  return `OPERATOR_SETTINGS_FILE is empty in ${where}, so every setting is root's (root's own file is never rewritten for an operator): ask root to set OPERATOR_SETTINGS_FILE, or to change the setting with "sudo portsentryctl config set ..."`;
}

/** Parses one key's value; throws ConfigValueError. `trustedFile`: see ParseContext. */
export function parseKeyValue(name: ConfigKey, value: string, context: ParseContext): unknown {
  const definition = CONFIG_KEYS[name] as KeyDefinition<string, unknown>;
  return definition.parse(value, name, context);
}

/** Null when the value is valid for the key, else the sentence that says why not. */
export function checkKeyValue(name: string, value: string, context: ParseContext = { trustedFile: false }): string | null {
  if (!isConfigKey(name)) return `unknown key ${name}`;
  try {
    parseKeyValue(name, value, context);
    return null;
  } catch (error) {
    if (error instanceof ConfigValueError) return error.message;
    throw error;
  }
}

/**
 * Classic configs that name a KILL_ROUTE keep using it when BLOCK_BACKEND is not set;
 * otherwise our nftables table.
 */
export function resolveBlockBackend(explicit: BlockBackendName | undefined, killRouteSet: boolean): BlockBackendName {
  return explicit ?? (killRouteSet ? 'command' : 'nftables');
}

/** Rules that tie keys together; null when the combination is valid. */
export function crossKeyError(backend: BlockBackendName, killRouteSet: boolean): { key: ConfigKey; message: string } | null {
  if (backend === 'command' && !killRouteSet) return { key: 'BLOCK_BACKEND', message: 'BLOCK_BACKEND="command" needs a KILL_ROUTE command' };
  return null;
}
