// Which ports this host (this network namespace) listens on, from /proc/net/{tcp,udp}[6]:
// the stealth and advanced modes leave such ports alone (a service is not a tripwire), and a
// classic tripwire is not bound on a port another program holds. The helper's own tripwire
// sockets are never "a service": they are told apart by their socket inode, which appears
// among this process's /proc/self/fd links. The parsers are pure; reading the files is the
// thin edge below them.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Protocol } from '../../shared/domain/types.js';

const TCP_LISTEN = '0A';

/** One socket of a /proc/net table: its local port and its inode (the key /proc/<pid>/fd links name). */
export interface ProcNetSocket {
  readonly port: number;
  readonly inode: string;
}

/** Sockets in a /proc/net table: TCP in LISTEN, UDP bound at all. */
export function parseProcNetSockets(text: string, protocol: Protocol): ProcNetSocket[] {
  const found: ProcNetSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    if (local === undefined || state === undefined) continue;
    const portHex = local.slice(local.lastIndexOf(':') + 1);
    if (!/^[0-9A-Fa-f]{1,4}$/.test(portHex)) continue;
    if (protocol === 'tcp' && state !== TCP_LISTEN) continue;
    const port = Number.parseInt(portHex, 16);
    // Field 9 is the inode; a line cut short has none and can never be one of ours.
    const inode = fields[9] ?? '';
    if (port > 0) found.push({ port, inode: /^\d+$/.test(inode) ? inode : '' });
  }
  return found;
}

/** Local ports of sockets in a /proc/net table: TCP in LISTEN, UDP bound at all. */
export function parseProcNetPorts(text: string, protocol: Protocol): Set<number> {
  return new Set(parseProcNetSockets(text, protocol).map((socket) => socket.port));
}

/** The socket inodes among /proc/self/fd's links ("socket:[12345]" -> "12345"). Pure. */
export function socketInodes(links: readonly string[]): Set<string> {
  const inodes = new Set<string>();
  for (const link of links) {
    const match = /^socket:\[(\d+)\]$/.exec(link);
    if (match !== null) inodes.add(match[1]!);
  }
  return inodes;
}

/** The inodes of every socket this process holds open. */
export function ownSocketInodes(): Set<string> {
  const links: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return new Set(); // no /proc: nothing is known to be ours
  }
  for (const fd of fds) {
    try {
      links.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed between the listing and the read
    }
  }
  return socketInodes(links);
}

export interface ListeningPorts {
  isListening(protocol: Protocol, port: number): boolean;
}

/** The helper's own tripwire sockets, which are never counted as a service listening. */
export interface OwnTripwires {
  /** The ports our tripwire sockets hold now, per protocol (the cheap test, asked first). */
  ports(): { readonly tcp: ReadonlySet<number>; readonly udp: ReadonlySet<number> };
  /** The inodes of this process's sockets (read only when some socket's port is in `ports`). */
  inodes(): ReadonlySet<string>;
}

/**
 * Cached view of the listening set. The cache lives at most maxAgeMs, whatever it answered:
 * a service that just started is never taken for a scan target, and one that just stopped
 * is a tripwire again as soon as the kernel trap, which asks the kernel itself, treats it so.
 * Reads are a few small files, well under a millisecond.
 */
export class ProcListeningPorts implements ListeningPorts {
  private tcp = new Set<number>();
  private udp = new Set<number>();
  private readAt = -Infinity;

  constructor(
    private readonly maxAgeMs = 250,
    private readonly read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
    private readonly now: () => number = () => performance.now(),
    private readonly own?: OwnTripwires,
  ) {}

  isListening(protocol: Protocol, port: number): boolean {
    if (this.now() - this.readAt >= this.maxAgeMs) this.refresh();
    return this.current(protocol).has(port);
  }

  refresh(): void {
    const ours = this.own?.ports();
    let inodes: ReadonlySet<string> | null = null;
    const others = (protocol: Protocol, sockets: readonly ProcNetSocket[]) =>
      sockets.filter((socket) => {
        if (ours === undefined || !ours[protocol].has(socket.port)) return true;
        inodes ??= this.own!.inodes();
        return !inodes.has(socket.inode);
      });
    const ports = (protocol: Protocol) => new Set(others(protocol, [...this.table(`/proc/net/${protocol}`, protocol), ...this.table(`/proc/net/${protocol}6`, protocol)]).map((socket) => socket.port));
    this.tcp = ports('tcp');
    this.udp = ports('udp');
    this.readAt = this.now();
  }

  private current(protocol: Protocol): Set<number> {
    return protocol === 'tcp' ? this.tcp : this.udp;
  }

  private table(path: string, protocol: Protocol): ProcNetSocket[] {
    try {
      return parseProcNetSockets(this.read(path), protocol);
    } catch {
      return []; // e.g. IPv6 disabled: no tcp6 file
    }
  }
}
