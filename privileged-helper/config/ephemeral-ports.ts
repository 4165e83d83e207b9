// Tripwires inside the ephemeral port range: Linux gives this host's own outgoing sockets
// (DNS, NTP, SSDP queries) a local port from net.ipv4.ip_local_port_range (32768-60999 by
// default). A reply that arrives after its socket closed lands on that port; if the port is a
// tripwire, the friend who answered is blocked. PortSentry 1.2's UDP list (32770-32774,
// 34555, 37444, 54321) lies inside it. The check is pure; the file is read by a thin edge.

import { readFile } from 'node:fs/promises';
import type { PortSentryConfig } from './config.js';
import type { Mode } from '../../shared/domain/types.js';

export type PortRange = readonly [low: number, high: number];

export const LOCAL_PORT_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

/** "32768\t60999" as [32768, 60999]; null for anything else. */
export function parseLocalPortRange(text: string): PortRange | null {
  const match = /^\s*(\d{1,5})\s+(\d{1,5})\s*$/.exec(text);
  if (match === null) return null;
  const [low, high] = [Number(match[1]), Number(match[2])];
  return low >= 1 && low <= high && high <= 65535 ? [low, high] : null;
}

/** The kernel's range, or null where there is none to read (another OS, a container without /proc). */
export async function readLocalPortRange(file = LOCAL_PORT_RANGE_FILE): Promise<PortRange | null> {
  return parseLocalPortRange(await readFile(file, 'utf8').catch(() => ''));
}

/** One warning per protocol whose watched tripwires (for the running modes) fall inside the range. */
export function ephemeralTripwireWarnings(config: PortSentryConfig, modes: readonly Mode[], range: PortRange | null): string[] {
  if (range === null) return [];
  const [low, high] = range;
  const inside = (ports: readonly number[]) => ports.filter((port) => port >= low && port <= high).sort((a, b) => a - b);
  const warnings: string[] = [];
  const say = (what: string, ports: string) =>
    warnings.push(
      `${what} ${ports} inside this host's ephemeral port range ${low}-${high} (net.ipv4.ip_local_port_range): a late reply to this host's own query can land there and block whoever answered`,
    );
  for (const protocol of ['tcp', 'udp'] as const) {
    const name = protocol.toUpperCase();
    const listed = protocol === 'tcp' ? config.tcpPorts : config.udpPorts;
    if (modes.includes(protocol) || modes.includes(`s${protocol}`)) {
      const ports = inside(listed);
      if (ports.length > 0) say(`${name} tripwire ${ports.length === 1 ? 'port' : 'ports'}`, `${ports.join(',')} ${ports.length === 1 ? 'is' : 'are'}`);
    }
    const limit = protocol === 'tcp' ? config.advancedPortsTcp : config.advancedPortsUdp;
    if (modes.includes(`a${protocol}`) && limit >= low) say(`the advanced ${name} range reaches`, `${low}-${Math.min(limit, high)}, which is`);
  }
  return warnings;
}
