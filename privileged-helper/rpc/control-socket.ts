// The helper's control channel: a unix socket (root:<group> 0660 in a root-owned 0750
// directory), newline-delimited JSON-RPC 2.0. The kernel's permission check on connect is
// the authentication: only root and members of the group reach it. Everything after that
// is hostile until validated: frames are bounded, requests rate-limited per connection,
// in-flight requests capped, and a subscriber that does not read is cut off rather than
// allowed to grow the helper's memory or stall it.

import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { FrameDecoder, dispatchRequest, encodeFrame, errorResponse, ErrorCode, notification, parseRequestFrame, type MethodHandlers } from '../../shared/protocol/json-rpc.js';
import type { NotificationParamsOf } from '../../shared/protocol/methods.js';

export interface ControlSocketOptions {
  readonly path: string;
  /** Group allowed besides root; null = root only. */
  readonly groupId: number | null;
  readonly maxFrameBytes?: number;
  /** Sustained requests per second per connection, and the burst above it. */
  readonly requestsPerSecond?: number;
  readonly burst?: number;
  readonly maxInFlight?: number;
  readonly maxConnections?: number;
  /** Bytes queued to a client before it is considered stuck and dropped. */
  readonly maxQueuedBytes?: number;
  readonly log: (message: string) => void;
}

/** What a handler knows about the caller. */
export interface ConnectionContext {
  readonly connectionId: number;
  subscribe(): void;
}

export class ControlSocket {
  private server: Server | null = null;
  private readonly connections = new Map<number, Connection>();
  private nextId = 1;

  constructor(
    private readonly options: ControlSocketOptions,
    private readonly handlers: MethodHandlers<ConnectionContext>,
  ) {}

  async listen(): Promise<void> {
    const { path, groupId } = this.options;
    if (isNamedPipe(path)) {
      // Windows: the pipe's default security lets only SYSTEM, Administrators and its creator
      // write to it (everyone else may only read, so cannot send a request). Granting a
      // group needs an explicit ACL, which Node cannot set; see build/README.md.
      this.server = await listenOn(createServer((socket) => this.accept(socket)), path, this.options.maxConnections);
      return;
    }
    const directory = dirname(path);
    await mkdir(directory, { recursive: true, mode: 0o750 });
    await chown(directory, 0, groupId ?? 0);
    await chmod(directory, groupId === null ? 0o700 : 0o750);
    await removeStaleSocket(path);
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections ?? 64;
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
    await chown(path, 0, groupId ?? 0);
    await chmod(path, groupId === null ? 0o600 : 0o660);
    this.server = server;
  }

  /** Sends an event to every subscribed connection. */
  broadcast(params: NotificationParamsOf<'event'>): void {
    if (this.connections.size === 0) return;
    const frame = encodeFrame(notification('event', params));
    for (const connection of this.connections.values()) if (connection.subscribed) connection.send(frame);
  }

  get connectionCount(): number {
    return this.connections.size;
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
    const connection = new Connection(id, socket, this.options, this.handlers, () => this.connections.delete(id));
    this.connections.set(id, connection);
  }
}

class Connection {
  subscribed = false;
  private readonly decoder: FrameDecoder;
  private tokens: number;
  private lastRefill = performance.now();
  private inFlight = 0;
  private closed = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly options: ControlSocketOptions,
    private readonly handlers: MethodHandlers<ConnectionContext>,
    onClose: () => void,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes ?? 64 * 1024 });
    this.tokens = options.burst ?? 200;
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
      this.options.log(`adminalert: WARNING: control client ${this.id} stopped reading; disconnected`);
      this.socket.destroy();
      return;
    }
    this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (this.closed) return;
      const parsed = parseRequestFrame(frame);
      if (parsed.kind === 'error') {
        this.send(encodeFrame(parsed.response));
        continue;
      }
      if (!this.takeToken()) {
        this.send(encodeFrame(errorResponse(parsed.id, ErrorCode.RATE_LIMITED, 'too many requests; slow down')));
        continue;
      }
      if (this.inFlight >= (this.options.maxInFlight ?? 32)) {
        this.send(encodeFrame(errorResponse(parsed.id, ErrorCode.RATE_LIMITED, 'too many requests in flight; wait for answers')));
        continue;
      }
      this.inFlight += 1;
      const context: ConnectionContext = { connectionId: this.id, subscribe: () => (this.subscribed = true) };
      void dispatchRequest(parsed, this.handlers, context).then((response) => {
        this.inFlight -= 1;
        this.send(encodeFrame(response));
      });
    }
  }

  private takeToken(): boolean {
    const now = performance.now();
    const rate = this.options.requestsPerSecond ?? 100;
    this.tokens = Math.min(this.options.burst ?? 200, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A Windows named pipe path (\\.\pipe\name) rather than a unix socket file. */
export function isNamedPipe(path: string): boolean {
  return /^\\\\[.?]\\pipe\\[^\\]+$/.test(path);
}

async function listenOn(server: Server, path: string, maxConnections = 64): Promise<Server> {
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
