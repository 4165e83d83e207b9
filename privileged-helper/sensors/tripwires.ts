// The classic -tcp and -udp modes: bind every configured port (IPv4 and, if enabled, IPv6)
// and treat any connection or datagram as a probe. A port already in use is reported and
// skipped; the caller decides what that means (sensor-set.ts: the port is another program's).

import type { Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { parseAddress } from '../../shared/domain/address.js';
import type { AddressFamily, Clock, Mode, Probe } from '../../shared/domain/types.js';
import { sourceProblem, type SourceProblem } from '../capture/source-address.js';

// getBuiltinModule: node:net and node:dgram without ES-module facades to build; binding the
// tripwires is the start path (the facades cost 5 to 7 ms of CPU on the way, measured).
const { createServer } = process.getBuiltinModule('node:net');
const { createSocket } = process.getBuiltinModule('node:dgram');

export interface TripwireHit {
  readonly probe: Probe;
  /** Sends PORT_BANNER back the way the original did (TCP: before closing; UDP: one datagram). */
  readonly reply: (banner: string) => void;
  /** Hangs up a TCP connection that got no reply; for a hit whose onHit returned 'held'. */
  readonly release: () => void;
}

/** How long a held connection (a probe queued during start-up) may stay open at most. */
const HELD_CONNECTION_MS = 30_000;

export interface BindFailure {
  readonly port: number;
  readonly family: AddressFamily;
  readonly reason: string;
}

export interface TripwireSet {
  readonly bound: ReadonlyArray<{ port: number; family: AddressFamily }>;
  readonly failed: readonly BindFailure[];
  close(): Promise<void>;
  /**
   * Closes the sockets `keep` says no to (a live change keeps the rest open); each leaves
   * `bound` once it has closed, so `bound` never omits a socket that is still open.
   */
  closeExcept(keep: (port: number, family: AddressFamily) => boolean): Promise<void>;
}

export interface TripwireOptions {
  readonly ports: readonly number[];
  readonly ipv6: boolean;
  readonly clock: Clock;
  /** Returns 'held' to keep a TCP connection open until hit.release() (start-up queueing). */
  readonly onHit: (hit: TripwireHit) => void | 'held';
  /** Bind only these families (a retry of one failed port); default: IPv4, and IPv6 when `ipv6`. */
  readonly families?: readonly AddressFamily[];
  /** A TCP connection whose peer had already reset it, so its address cannot be read. */
  readonly onUnknownPeer?: (port: number) => void;
  /** A packet from an address no remote host can have (e.g. ::ffff:a.b.c.d): never a probe. */
  readonly onBadSource?: (address: string, problem: SourceProblem) => void;
}

/**
 * The probe's source, or null (reported) when the kernel's text names an impossible one.
 * Checked on the kernel's own text: parseAddress maps ::ffff:a.b.c.d to a.b.c.d.
 */
function vetSource(raw: string | undefined, options: TripwireOptions): ReturnType<typeof parseAddress> {
  if (raw === undefined) return null;
  const problem = sourceProblem(raw);
  // Loopback is this host itself: the ignore policy reports it as such.
  if (problem !== null && problem !== 'loopback') {
    options.onBadSource?.(raw, problem);
    return null;
  }
  return parseAddress(raw);
}

export async function openTcpTripwires(options: TripwireOptions, mode: Mode = 'tcp'): Promise<TripwireSet> {
  const servers: Server[] = [];
  const bound: Array<{ port: number; family: AddressFamily }> = [];
  const failed: BindFailure[] = [];
  // All ports at once: binding is what start-up waits for, and each listen() is independent.
  const attempts = (options.families ?? families(options.ipv6)).flatMap((family) =>
    options.ports.map(async (port) => {
      // pauseOnConnect: we never read from a scanner, we only note who it is and hang up.
      const server = createServer({ pauseOnConnect: true }, (socket) => onTcpConnection(socket, port, mode, options));
      server.on('error', () => undefined);
      return { server, port, family, error: await listenTcp(server, port, family) };
    }),
  );
  for (const { server, port, family, error } of await Promise.all(attempts)) {
    if (error === null) {
      servers.push(server);
      bound.push({ port, family });
    } else {
      failed.push({ port, family, reason: error });
    }
  }
  const closeOne = (s: Server) => new Promise<void>((r) => s.close(() => r()));
  return { bound, failed, close: () => closeAll(servers, closeOne), closeExcept: (keep) => closeExcept(servers, bound, keep, closeOne) };
}

export async function openUdpTripwires(options: TripwireOptions, mode: Mode = 'udp'): Promise<TripwireSet> {
  const sockets: UdpSocket[] = [];
  const bound: Array<{ port: number; family: AddressFamily }> = [];
  const failed: BindFailure[] = [];
  const attempts = (options.families ?? families(options.ipv6)).flatMap((family) =>
    options.ports.map(async (port) => {
      const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
      socket.on('message', (_data, remote) => {
        const parsed = vetSource(remote.address, options);
        if (parsed === null) return;
        const probe: Probe = { source: parsed.address, family: parsed.family, port, protocol: 'udp', kind: 'udp', mode, at: options.clock() };
        options.onHit({ probe, reply: (banner) => socket.send(banner, remote.port, remote.address, () => undefined), release: () => undefined });
      });
      return { socket, port, family, error: await bindUdp(socket, port, family) };
    }),
  );
  for (const { socket, port, family, error } of await Promise.all(attempts)) {
    if (error === null) {
      sockets.push(socket);
      bound.push({ port, family });
    } else {
      failed.push({ port, family, reason: error });
      socket.close();
    }
  }
  const closeOne = (s: UdpSocket) => new Promise<void>((r) => s.close(() => r()));
  return { bound, failed, close: () => closeAll(sockets, closeOne), closeExcept: (keep) => closeExcept(sockets, bound, keep, closeOne) };
}

/** Closes the sockets `keep` refuses, then removes them from both lists (`sockets` and `bound` are parallel). */
async function closeExcept<S>(
  sockets: S[],
  bound: Array<{ port: number; family: AddressFamily }>,
  keep: (port: number, family: AddressFamily) => boolean,
  closeOne: (socket: S) => Promise<void>,
): Promise<void> {
  const dropped = sockets.filter((_, i) => !keep(bound[i]!.port, bound[i]!.family));
  await closeAll(dropped, closeOne);
  for (const socket of dropped) {
    const i = sockets.indexOf(socket);
    sockets.splice(i, 1);
    bound.splice(i, 1);
  }
}

function onTcpConnection(socket: Socket, port: number, mode: Mode, options: TripwireOptions): void {
  socket.on('error', () => undefined);
  const raw = socket.remoteAddress;
  const problem = raw === undefined ? null : sourceProblem(raw);
  if (raw !== undefined && problem !== null && problem !== 'loopback') {
    options.onBadSource?.(raw, problem);
    socket.destroy();
    return;
  }
  const parsed = raw === undefined ? null : parseAddress(raw);
  if (parsed === null) {
    // nmap -sT resets right after the handshake; by the time we accept, getpeername fails.
    options.onUnknownPeer?.(port);
    socket.destroy();
    return;
  }
  const probe: Probe = { source: parsed.address, family: parsed.family, port, protocol: 'tcp', kind: 'connect', mode, at: options.clock() };
  let replied = false;
  const held = options.onHit({
    probe,
    reply: (banner) => {
      replied = true;
      socket.end(banner);
      setTimeout(() => socket.destroy(), 1000).unref();
    },
    release: () => {
      if (!replied) socket.destroy();
    },
  });
  if (held === 'held') setTimeout(() => socket.destroy(), HELD_CONNECTION_MS).unref();
  else if (!replied) socket.destroy();
}

function families(ipv6: boolean): AddressFamily[] {
  return ipv6 ? [4, 6] : [4];
}

function listenTcp(server: Server, port: number, family: AddressFamily): Promise<string | null> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message);
    server.once('error', onError);
    server.listen({ port, host: family === 4 ? '0.0.0.0' : '::', ipv6Only: family === 6, backlog: 64, exclusive: true }, () => {
      server.off('error', onError);
      resolve(null);
    });
  });
}

function bindUdp(socket: UdpSocket, port: number, family: AddressFamily): Promise<string | null> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message);
    socket.once('error', onError);
    socket.bind({ port, address: family === 4 ? '0.0.0.0' : '::', exclusive: true }, () => {
      socket.off('error', onError);
      socket.on('error', () => undefined);
      resolve(null);
    });
  });
}

async function closeAll<S>(sockets: readonly S[], closeOne: (socket: S) => Promise<void>): Promise<void> {
  await Promise.all(sockets.map(closeOne));
}
