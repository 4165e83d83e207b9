// A typed client of the helper's control socket, shared by portsentryctl and the desktop
// app's main process. Plain Node (net), no Electron. Every answer is validated against the
// shared protocol before a caller sees it.

import { createConnection, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame, parseResponse, request, type JsonRpcErrorObject } from '../protocol/json-rpc.js';
import type { MethodName, NotificationParamsOf, ParamsOf, ResultOf } from '../protocol/methods.js';
import { defaultAdminSocketPath, defaultSocketPath } from '../socket-paths.js';

/** The helper's operator channel: a unix socket, or on Windows a named pipe. */
export const DEFAULT_SOCKET_PATH = defaultSocketPath(process.platform);
/** Root's own channel (see privileged-helper/rpc/control-socket.ts). */
export const DEFAULT_ADMIN_SOCKET_PATH = defaultAdminSocketPath(process.platform);

/** The helper answered with a JSON-RPC error. */
export class HelperError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'HelperError';
  }
}

/** The helper could not be reached or the connection broke. */
export class HelperUnavailableError extends Error {
  constructor(
    message: string,
    readonly reason: 'not-running' | 'permission-denied' | 'disconnected' | 'timeout' | 'protocol',
  ) {
    super(message);
    this.name = 'HelperUnavailableError';
  }
}

export type HelperEventListener = (event: NotificationParamsOf<'event'>) => void;
/** Gets each scan record the helper pushes as it changes (the whole record). */
export type HelperScanListener = (record: NotificationParamsOf<'scan'>) => void;
export type HelperProtectionListener = (state: NotificationParamsOf<'protection'>) => void;

interface Pending {
  readonly method: MethodName;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ConnectOptions {
  readonly timeoutMs?: number;
  /** Results (blocks.list, config.get) can be large; the helper's limit applies only to requests. */
  readonly maxFrameBytes?: number;
}

export class HelperClient {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<HelperEventListener>();
  private readonly scanListeners = new Set<HelperScanListener>();
  private readonly protectionListeners = new Set<HelperProtectionListener>();
  private subscribed: Promise<unknown> | null = null;
  private readonly closeListeners = new Set<(error: Error) => void>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
    maxFrameBytes: number,
  ) {
    const decoder = new FrameDecoder({ maxFrameBytes });
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind !== 'frame') {
          this.fail(new HelperUnavailableError('the helper sent a frame this client cannot read', 'protocol'));
          return;
        }
        this.onMessage(frame.text);
      }
    });
    socket.on('error', (error) => this.fail(new HelperUnavailableError(`connection to the helper failed: ${error.message}`, 'disconnected')));
    socket.on('close', () => this.fail(new HelperUnavailableError('the helper closed the connection', 'disconnected')));
  }

  static connect(path = DEFAULT_SOCKET_PATH, options: ConnectOptions = {}): Promise<HelperClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HelperUnavailableError(`the helper at ${path} did not answer within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new HelperClient(socket, timeoutMs, options.maxFrameBytes ?? 64 * 1024 * 1024));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(describeConnectError(path, error));
      });
    });
  }

  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    if (this.closed) return Promise.reject(new HelperUnavailableError('the connection to the helper is closed', 'disconnected'));
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HelperUnavailableError(`${method} got no answer within ${this.timeoutMs} ms`, 'timeout'));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, timer });
      this.socket.write(encodeFrame(request(id, method, params)));
    });
  }

  /** Subscribes to events and block changes; the listener gets each one as it happens. */
  async subscribe(listener: HelperEventListener): Promise<() => void> {
    this.listeners.add(listener);
    await this.subscribeOnce();
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to scan records; the listener gets each record as it changes (at most once a second). */
  async subscribeScans(listener: HelperScanListener): Promise<() => void> {
    this.scanListeners.add(listener);
    await this.subscribeOnce();
    return () => this.scanListeners.delete(listener);
  }

  /** Subscribes to the protection state (paused, protecting, firewall in sync), pushed each time it changes. */
  async subscribeProtection(listener: HelperProtectionListener): Promise<() => void> {
    this.protectionListeners.add(listener);
    await this.subscribeOnce();
    return () => this.protectionListeners.delete(listener);
  }

  /** One events.subscribe per connection: it brings both events and scan records (a refused one is asked again next time). */
  private subscribeOnce(): Promise<unknown> {
    this.subscribed ??= this.call('events.subscribe', {}).catch((error: unknown) => {
      this.subscribed = null;
      throw error;
    });
    return this.subscribed;
  }

  onClose(listener: (error: Error) => void): void {
    this.closeListeners.add(listener);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
    this.fail(new HelperUnavailableError('the connection to the helper is closed', 'disconnected'));
  }

  private onMessage(text: string): void {
    const message = parseResponse(text, (id) => (typeof id === 'number' ? this.pending.get(id)?.method : undefined));
    switch (message.kind) {
      case 'result': {
        const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
        if (pending === undefined) return;
        this.settle(message.id as number);
        pending.resolve(message.result);
        return;
      }
      case 'error': {
        const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
        if (pending === undefined) return;
        this.settle(message.id as number);
        pending.reject(toHelperError(message.error));
        return;
      }
      case 'notification':
        if (message.method === 'scan') for (const listener of this.scanListeners) listener(message.params);
        else if (message.method === 'protection') for (const listener of this.protectionListeners) listener(message.params);
        else for (const listener of this.listeners) listener(message.params);
        return;
      default:
        return; // a message we cannot validate is dropped, never passed on
    }
  }

  private settle(id: number): void {
    const pending = this.pending.get(id);
    if (pending !== undefined) clearTimeout(pending.timer);
    this.pending.delete(id);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
    for (const listener of this.closeListeners) listener(error);
    this.socket.destroy();
  }
}

function toHelperError(error: JsonRpcErrorObject): HelperError {
  return new HelperError(error.code, error.message, error.data);
}

function describeConnectError(path: string, error: NodeJS.ErrnoException): HelperUnavailableError {
  switch (error.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new HelperUnavailableError(`the PortSentry helper is not running (no one listens on ${path})`, 'not-running');
    case 'EACCES':
    case 'EPERM':
      return new HelperUnavailableError(`permission denied on ${path}: only root and members of the portsentry group may control the helper`, 'permission-denied');
    default:
      return new HelperUnavailableError(`cannot reach the helper at ${path}: ${error.message}`, 'disconnected');
  }
}
