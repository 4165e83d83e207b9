// Which ports this host (this network namespace) listens on, from /proc/net/{tcp,udp}[6].
// The parser is pure; reading the files is the thin edge below it.

import { readFileSync } from 'node:fs';
import type { Protocol } from '../../shared/domain/types.js';

const TCP_LISTEN = '0A';

/** Local ports of sockets in a /proc/net table: TCP in LISTEN, UDP bound at all. */
export function parseProcNetPorts(text: string, protocol: Protocol): Set<number> {
  const found = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    if (local === undefined || state === undefined) continue;
    const portHex = local.slice(local.lastIndexOf(':') + 1);
    if (!/^[0-9A-Fa-f]{1,4}$/.test(portHex)) continue;
    if (protocol === 'tcp' && state !== TCP_LISTEN) continue;
    const port = Number.parseInt(portHex, 16);
    if (port > 0) found.add(port);
  }
  return found;
}

export interface ListeningPorts {
  isListening(protocol: Protocol, port: number): boolean;
}

/**
 * Cached view of the listening set. A port that looks unused is re-checked against a fresh
 * read when the cache is older than maxAgeMs, so a service that just started is never
 * taken for a scan target; reads are a few small files, well under a millisecond.
 */
export class ProcListeningPorts implements ListeningPorts {
  private tcp = new Set<number>();
  private udp = new Set<number>();
  private readAt = -Infinity;

  constructor(
    private readonly maxAgeMs = 250,
    private readonly read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
    private readonly now: () => number = () => performance.now(),
  ) {}

  isListening(protocol: Protocol, port: number): boolean {
    if (this.current(protocol).has(port)) return true;
    if (this.now() - this.readAt < this.maxAgeMs) return false;
    this.refresh();
    return this.current(protocol).has(port);
  }

  refresh(): void {
    this.tcp = new Set([...this.table('/proc/net/tcp', 'tcp'), ...this.table('/proc/net/tcp6', 'tcp')]);
    this.udp = new Set([...this.table('/proc/net/udp', 'udp'), ...this.table('/proc/net/udp6', 'udp')]);
    this.readAt = this.now();
  }

  private current(protocol: Protocol): Set<number> {
    return protocol === 'tcp' ? this.tcp : this.udp;
  }

  private table(path: string, protocol: Protocol): Set<number> {
    try {
      return parseProcNetPorts(this.read(path), protocol);
    } catch {
      return new Set(); // e.g. IPv6 disabled: no tcp6 file
    }
  }
}
