// The invariant checker's small model of a helper: what it has been told (modes, ports,
// blocking switches, ignore list, pause, services on the target) and therefore which blocks
// the kernel must hold. Pure: the e2e checker drives a real helper and asks this model, after
// every step, what the kernel, `blocks.list` and `status` should say.

export type TcpMode = 'tcp' | 'stcp' | 'atcp';
export type UdpMode = 'udp' | 'sudp' | 'audp';
export type ProbeKind = 'connect' | 'syn' | 'udp';

/** A scanner address of the lab: host index, family, and which of its addresses (0 = its own). */
export interface Source {
  readonly host: number;
  readonly family: 4 | 6;
  readonly index: number;
}

export const SCANNER_HOSTS = 6;
/** Addresses per scanner host and family: its lab address plus extra ones added to it. */
export const ADDRESSES_PER_FAMILY = 3;
/** Octets of the lab: target 10, scanners 11.., the sentinel after them. */
export const TARGET_OCTET = 10;

export const TCP_PORT_POOL = [1, 11, 79, 143, 4000, 31337] as const;
// Not 161: an on-link neighbour's lone SNMP touch is reported, not blocked (engine/scan-score.ts).
export const UDP_PORT_POOL = [7, 9, 69, 513, 4001] as const;
/** A real service the target runs the whole time (both families); never a tripwire. */
export const SERVICE_PORT = 8080;
/** ADVANCED_PORTS_TCP/UDP: every pool port (and the service port) is inside the advanced range. */
export const ADVANCED_LIMIT = 9000;
export const INITIAL_TCP_PORTS = [1, 11, 79, 143, 31337];
export const INITIAL_UDP_PORTS = [7, 9, 69, 513];

/** The text address of a source. Own lab addresses come from netns-lab (198.18.0.x, fd00:5e::x). */
export function sourceAddress(source: Source): string {
  const octet = TARGET_OCTET + 1 + source.host;
  if (source.family === 4) return source.index === 0 ? `198.18.0.${octet}` : `198.18.0.${100 + source.host * ADDRESSES_PER_FAMILY + source.index}`;
  // The host's own IPv6 address shares the target's /64 (so it is blocked as a host);
  // its extra ones live in a /64 of their own, on-link for the target (blocked as that /64).
  return source.index === 0 ? `fd00:5e::${octet.toString(16)}` : `fd00:5f:${source.host + 1}::${source.index}`;
}

/** The extra /64 a scanner host's extra IPv6 addresses live in. */
export function extraNetwork6(host: number): string {
  return `fd00:5f:${host + 1}::`;
}

/** What a block of this source covers, as the helper writes it (BLOCK_PREFIX6=64). */
export function blockScope(source: Source): string {
  if (source.family === 6 && source.index !== 0) return `${extraNetwork6(source.host)}/64`;
  return sourceAddress(source);
}

export interface ServiceHold {
  readonly port: number;
  /** 'dual': [::] with ipv6only=0 (both families); '4': 0.0.0.0 only. */
  readonly family: 'dual' | '4';
}

export interface HelperModel {
  tcpMode: TcpMode | null;
  udpMode: UdpMode | null;
  tcpPorts: Set<number>;
  udpPorts: Set<number>;
  ipv6: boolean;
  kernelTrap: boolean;
  blockTcp: boolean;
  blockUdp: boolean;
  paused: boolean;
  /** Scanner addresses on the ignore list (by address text). */
  ignored: Set<string>;
  /** Block strings the kernel must hold, exactly. */
  blocks: Set<string>;
  /** Tripwire-pool ports a service (not the helper) holds. */
  services: Map<number, ServiceHold>;
  /** Ports whose ownership is open to interpretation until the next config change: probes to them are not judged. */
  unsettledPorts: Set<number>;
  /** Sources that must have a "has been blocked" line since the step began (cleared per step). */
  expectLines: Set<string>;
}

export function initialModel(): HelperModel {
  return {
    tcpMode: 'tcp',
    udpMode: 'udp',
    tcpPorts: new Set(INITIAL_TCP_PORTS),
    udpPorts: new Set(INITIAL_UDP_PORTS),
    ipv6: true,
    kernelTrap: true,
    blockTcp: true,
    blockUdp: true,
    paused: false,
    ignored: new Set(),
    blocks: new Set(),
    services: new Map(),
    unsettledPorts: new Set(),
    expectLines: new Set(),
  };
}

/** The config keys of a model, as config set / the config file takes them. */
export function modesText(model: Pick<HelperModel, 'tcpMode' | 'udpMode'>): string {
  return [model.tcpMode, model.udpMode].filter((m) => m !== null).join(' ');
}

/** Whether a packet from this source reaches anything: a block in force covers it. */
export function isCovered(model: HelperModel, source: Source): boolean {
  return model.blocks.has(sourceAddress(source)) || model.blocks.has(blockScope(source));
}

/** Whether the configured modes watch this port for this protocol (a tripwire, not a service). */
export function watches(model: HelperModel, protocol: 'tcp' | 'udp', port: number, family: 4 | 6): boolean {
  if (family === 6 && !model.ipv6) return false;
  if (protocol === 'tcp') {
    const service = model.services.get(port);
    if (port === SERVICE_PORT || service !== undefined) return false;
    if (model.tcpMode === 'tcp' || model.tcpMode === 'stcp') return model.tcpPorts.has(port);
    return model.tcpMode === 'atcp' && port < ADVANCED_LIMIT;
  }
  if (model.udpMode === 'udp' || model.udpMode === 'sudp') return model.udpPorts.has(port);
  return model.udpMode === 'audp' && port < ADVANCED_LIMIT;
}

/** Whether a probe of these ports (in order) from this source must end with its sender blocked. */
export function shouldBlock(model: HelperModel, kind: ProbeKind, source: Source, ports: readonly number[]): boolean {
  const protocol = kind === 'udp' ? 'udp' : 'tcp';
  if (isCovered(model, source) || model.paused || model.ignored.has(sourceAddress(source))) return false;
  if (!(protocol === 'tcp' ? model.blockTcp : model.blockUdp)) return false;
  return ports.some((port) => watches(model, protocol, port, source.family));
}

/** Whether the helper should say it protects: blocking on for a watched protocol, not paused. */
export function shouldProtect(model: HelperModel): boolean {
  return !model.paused && ((model.tcpMode !== null && model.blockTcp) || (model.udpMode !== null && model.blockUdp));
}

/** A judgement of what the helper and the kernel say against the model; empty when they agree. */
export interface Observed {
  readonly kernel: readonly string[] | null;
  readonly kernelProblem: string | null;
  readonly listed: readonly string[];
  readonly blockedCount: number;
  /** status.firewall / status.protecting when the helper reports them (absent on older helpers). */
  readonly firewall?: { readonly inSync: boolean; readonly problem: string | null } | undefined;
  readonly protecting?: boolean | undefined;
  /** Log lines since the step began. */
  readonly lines: readonly string[];
  /** Ports a service holds that the helper also holds (any family), with the sockets. */
  readonly stolenPorts: readonly string[];
}

export function disagreements(model: HelperModel, seen: Observed): string[] {
  const problems: string[] = [];
  const kernel = new Set(seen.kernel ?? []);
  const listed = new Set(seen.listed);
  if (seen.kernel === null) problems.push(`the kernel's blocked sets cannot be read: ${seen.kernelProblem ?? 'unknown'}`);
  for (const block of model.blocks) if (!kernel.has(block)) problems.push(`${block} should be blocked but is not in the kernel's sets`);
  for (const element of kernel) if (!model.blocks.has(element)) problems.push(`${element} is in the kernel's sets but nothing should have blocked it`);
  for (const block of listed) if (!kernel.has(block)) problems.push(`blocks.list lists ${block}, the kernel does not hold it`);
  for (const element of kernel) if (!listed.has(element)) problems.push(`the kernel holds ${element}, blocks.list does not list it`);
  if (seen.blockedCount !== seen.listed.length) problems.push(`status says blockedCount ${seen.blockedCount}, blocks.list lists ${seen.listed.length}`);
  if (seen.firewall !== undefined) {
    const differs = seen.kernel === null || kernel.size !== listed.size || [...listed].some((b) => !kernel.has(b));
    if (seen.firewall.inSync === differs) problems.push(`status.firewall.inSync is ${seen.firewall.inSync} while kernel and blocks.list ${differs ? 'differ' : 'agree'}`);
  }
  if (seen.protecting !== undefined && seen.protecting !== shouldProtect(model))
    problems.push(`status.protecting is ${seen.protecting}, expected ${shouldProtect(model)} (paused ${model.paused}, BLOCK_TCP ${model.blockTcp}, BLOCK_UDP ${model.blockUdp})`);
  for (const who of model.expectLines) {
    if (!seen.lines.some((line) => line.includes(`Host ${who} has been blocked via`))) problems.push(`no "Host ${who} has been blocked via" line`);
  }
  for (const stolen of seen.stolenPorts) problems.push(`the helper holds a port a service holds: ${stolen}`);
  return problems;
}
