// One of the helper's two control channels, newline-delimited JSON-RPC 2.0 over a unix
// socket. The kernel's permission check on connect is the authentication, and which socket a
// connection came in on is its role: the operator socket (root:<group> 0660) admits members
// of the control group, the admin socket (root 0600, in a 0700 directory) admits only root.
// Nothing the caller says changes its role. Each socket has its own connection cap, so
// operators filling theirs never lock root out of its own. Everything after connect is hostile
// until validated: frames are bounded, requests rate-limited per connection and per socket, in-flight
// requests capped, idle connections closed, and a subscriber that does not read is cut off
// rather than allowed to grow the helper's memory or stall it.

import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { FrameDecoder, dispatchRequest, encodeFrame, errorResponse, ErrorCode, notification, parseRequestFrame, type MethodHandlers } from '../../shared/protocol/json-rpc.js';
import { methods, type MethodAccess, type NotificationName, type NotificationParamsOf } from '../../shared/protocol/methods.js';
import type { CallerRole } from '../../shared/protocol/schemas.js';
import { ensureOwnDirectory, groupCanEnter } from '../files/safe-paths.js';

export interface ControlSocketOptions {
  readonly path: string;
  /** "operator": root and the group may connect; "admin": root alone. */
  readonly role: CallerRole;
  /** The control group (operator socket only); null = no group, root only. */
  readonly groupId: number | null;
  /** A connection with no request in flight, not subscribed, that sends nothing this long is closed. */
  readonly idleTimeoutMs?: number;
  readonly maxFrameBytes?: number;
  /** Sustained requests per second per connection, and the burst above it. */
  readonly requestsPerSecond?: number;
  readonly burst?: number;
  /**
   * The same for all connections of this socket together: many connections (or a new one for
   * every burst) buy no more than one budget, and the other socket's budget is its own. The
   * operator socket has one by default (200/s, bursts of 400); root's socket only if given.
   */
  readonly socketRequestsPerSecond?: number;
  readonly socketBurst?: number;
  readonly maxInFlight?: number;
  readonly maxConnections?: number;
  /** Bytes queued to a client before it is considered stuck and dropped. */
  readonly maxQueuedBytes?: number;
  /**
   * Bytes queued to all clients of this socket together: past it, the client furthest behind
   * is dropped, so many clients that stop reading cannot hold the helper's memory between them.
   */
  readonly socketMaxQueuedBytes?: number;
  readonly log: (message: string) => void;
}

/** What a handler knows about the caller. */
export interface ConnectionContext {
  readonly connectionId: number;
  /** Decided by the socket the connection came in on. */
  readonly role: CallerRole;
  subscribe(): void;
}

/** Default caps: operators share 64 connections; root's own socket keeps 16 of its own. */
const DEFAULT_MAX_CONNECTIONS: Readonly<Record<CallerRole, number>> = { operator: 64, admin: 16 };
const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export class ControlSocket {
  private server: Server | null = null;
  private readonly connections = new Map<number, Connection>();
  private nextId = 1;
  /** Shared by every connection of the socket; null: none (root's socket, unless asked). */
  private readonly budget: TokenBucket | null;

  constructor(
    private readonly options: ControlSocketOptions,
    private readonly handlers: MethodHandlers<ConnectionContext>,
  ) {
    // Operators share one budget; root's own socket is limited per connection only.
    const shared = options.role === 'operator' || options.socketRequestsPerSecond !== undefined;
    this.budget = shared ? new TokenBucket(options.socketRequestsPerSecond ?? 200, options.socketBurst ?? 400) : null;
  }

  async listen(): Promise<void> {
    const { path, role } = this.options;
    const groupId = role === 'admin' ? null : this.options.groupId;
    const maxConnections = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS[role];
    if (isNamedPipe(path)) {
      // Windows: the pipe's default security lets only SYSTEM, Administrators and its creator
      // write to it (everyone else may only read, so cannot send a request). Granting a
      // group needs an explicit ACL, which Node cannot set; see build/README.md.
      this.server = await listenOn(
        createServer((socket) => this.accept(socket)),
        path,
        maxConnections,
      );
      return;
    }
    // The directory is ours only if we create it (then root:group 0750, or root 0700 for the
    // admin socket); one that exists is used as it is if only root can change it, else refused.
    const directory = dirname(path);
    await ensureOwnDirectory(directory, groupId === null ? 0o700 : 0o750, groupId);
    if (groupId !== null && !(await groupCanEnter(directory, groupId))) {
      this.options.log(`adminalert: WARNING: members of group ${groupId} cannot enter ${directory} (mode ${((await lstat(directory)).mode & 0o777).toString(8)}); they will not reach ${path}`);
    }
    await removeStaleSocket(path);
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is created with the process umask; tighten it before anyone can connect
      // by listening with a restrictive umask.
      const previous = process.umask(0o177);
      server.listen(path, () => {
        process.umask(previous);
        server.off('error', reject);
        resolve();
      });
    });
    // The socket file is new and ours, in a directory only root can change.
    await chown(path, process.geteuid?.() ?? 0, groupId ?? (await lstat(path)).gid);
    await chmod(path, groupId === null ? 0o600 : 0o660);
    this.server = server;
  }

  /** Sends an event to every subscribed connection. */
  broadcast(params: NotificationParamsOf<'event'>): void {
    this.push('event', params);
  }

  /** Sends a notification (an event, a changed scan record) to every subscribed connection. */
  push<N extends NotificationName>(method: N, params: NotificationParamsOf<N>): void {
    if (this.connections.size === 0) return;
    const frame = encodeFrame(notification(method, params));
    for (const connection of this.connections.values()) if (connection.subscribed) connection.send(frame);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Bytes written to clients of this socket that they have not read yet. */
  get queuedBytes(): number {
    let total = 0;
    for (const connection of this.connections.values()) total += connection.queuedBytes;
    return total;
  }

  /** Drops the clients furthest behind until what is queued to all of them fits the socket's bound. */
  private relieve(): void {
    const max = this.options.socketMaxQueuedBytes ?? 16 * 1024 * 1024;
    for (let total = this.queuedBytes; total > max;) {
      let furthest: Connection | null = null;
      for (const connection of this.connections.values()) if (furthest === null || connection.queuedBytes > furthest.queuedBytes) furthest = connection;
      if (furthest === null || furthest.queuedBytes === 0) return;
      total -= furthest.queuedBytes;
      furthest.drop(`control client ${furthest.id} is furthest behind while clients of ${this.options.path} hold ${max} unread bytes; disconnected`);
    }
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.destroy();
    this.connections.clear();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.options.path).catch(() => undefined);
  }

  private accept(socket: Socket): void {
    const id = this.nextId++;
    const connection = new Connection(
      id,
      socket,
      this.options,
      this.handlers,
      this.budget,
      () => this.relieve(),
      () => this.connections.delete(id),
    );
    this.connections.set(id, connection);
  }
}

class Connection {
  subscribed = false;
  private readonly decoder: FrameDecoder;
  private readonly budget: TokenBucket;
  private inFlight = 0;
  private closed = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly options: ControlSocketOptions,
    private readonly handlers: MethodHandlers<ConnectionContext>,
    private readonly socketBudget: TokenBucket | null,
    private readonly afterSend: () => void,
    onClose: () => void,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes ?? 64 * 1024 });
    this.budget = new TokenBucket(options.requestsPerSecond ?? 100, options.burst ?? 200);
    // Idle: nothing sent to us and nothing owed. A subscriber is never idle (events flow to it),
    // and a request still being answered keeps its connection.
    socket.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      if (!this.subscribed && this.inFlight === 0) socket.destroy();
    });
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      onClose();
    });
  }

  send(frame: string): void {
    if (this.closed) return;
    if (this.socket.writableLength > (this.options.maxQueuedBytes ?? 4 * 1024 * 1024)) {
      this.drop(`control client ${this.id} stopped reading; disconnected`);
      return;
    }
    this.socket.write(frame);
    // What all clients hold unread grows only through a write that stays queued; a frame the
    // kernel took at once (the usual case, on every broadcast) needs no walk over the clients.
    if (this.socket.writableLength > 0) this.afterSend();
  }

  get queuedBytes(): number {
    return this.closed ? 0 : this.socket.writableLength;
  }

  drop(reason: string): void {
    this.options.log(`adminalert: WARNING: ${reason}`);
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (this.closed) return;
      const parsed = parseRequestFrame(frame);
      if (parsed.kind === 'error') {
        this.send(encodeFrame(parsed.response));
        continue;
      }
      if (!TokenBucket.takeFromBoth(this.budget, this.socketBudget)) {
        this.send(encodeFrame(errorResponse(parsed.id, ErrorCode.RATE_LIMITED, 'too many requests; slow down')));
        continue;
      }
      if (this.inFlight >= (this.options.maxInFlight ?? 32)) {
        this.send(encodeFrame(errorResponse(parsed.id, ErrorCode.RATE_LIMITED, 'too many requests in flight; wait for answers')));
        continue;
      }
      if ((methods[parsed.method].access as MethodAccess) === 'admin' && this.options.role !== 'admin') {
        this.send(encodeFrame(errorResponse(parsed.id, ErrorCode.NOT_AUTHORIZED, `${parsed.method} is for root only: run it as root (sudo portsentryctl ...), which uses the admin socket`)));
        continue;
      }
      this.inFlight += 1;
      const context: ConnectionContext = { connectionId: this.id, role: this.options.role, subscribe: () => (this.subscribed = true) };
      void dispatchRequest(parsed, this.handlers, context).then((response) => {
        this.inFlight -= 1;
        this.send(encodeFrame(response));
      });
    }
  }
}

/** Requests allowed at `rate` a second with bursts up to `burst`. */
class TokenBucket {
  private tokens: number;
  private lastRefill = performance.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** One token from each bucket, or none taken when either is empty. */
  static takeFromBoth(a: TokenBucket, b: TokenBucket | null): boolean {
    if (a.available() < 1 || (b !== null && b.available() < 1)) return false;
    a.tokens -= 1;
    if (b !== null) b.tokens -= 1;
    return true;
  }

  private available(): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.rate);
    this.lastRefill = now;
    return this.tokens;
  }
}

/** A Windows named pipe path (\\.\pipe\name) rather than a unix socket file. */
export function isNamedPipe(path: string): boolean {
  return /^\\\\[.?]\\pipe\\[^\\]+$/.test(path);
}

async function listenOn(server: Server, path: string, maxConnections: number): Promise<Server> {
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * Removes a socket file left by a helper that died, but refuses to take over from one that
 * still answers, or to delete anything that is not a socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another helper is already answering on ${path}`);
  await unlink(path);
}
