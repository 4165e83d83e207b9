// Keeps the desktop app connected to the privileged helper. One HelperClient at a time;
// when the helper goes away (restart, upgrade, crash) the supervisor reports "unreachable"
// and retries with capped, jittered exponential backoff, then subscribes again and
// re-reads the status, because events and the paused flag may have changed meanwhile; after
// that, the helper pushes every change of the protection state (paused, protecting, degraded).
// Nothing here throws into the caller: Electron's main process must survive any helper.

import type { HelperState } from '../shared/desktop-api.js';
import type { MethodName, NotificationParamsOf, ParamsOf, ResultOf } from '../shared/protocol/methods.js';
import type { StatusResult, StoredEvent } from '../shared/protocol/schemas.js';
import type { ScanRecord } from '../shared/domain/scan-record.js';
import { HelperClient, HelperUnavailableError } from '../shared/rpc/helper-client.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';

/** What the supervisor needs of a connection: HelperClient's surface. */
export interface HelperConnection {
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  subscribe(listener: (event: StoredEvent) => void): Promise<() => void>;
  subscribeScans(listener: (record: ScanRecord) => void): Promise<() => void>;
  subscribeProtection(listener: (state: NotificationParamsOf<'protection'>) => void): Promise<() => void>;
  onClose(listener: (error: Error) => void): void;
  close(): void;
}

export type Connect = (socketPath: string) => Promise<HelperConnection>;

/** Timers and randomness, injectable so tests can step through the backoff exactly. */
export interface SupervisorTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

export const REAL_TIMERS: SupervisorTimers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending reconnect must not keep a Node process (tests, CLI) alive on its own.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: Math.random,
};

export interface SupervisorOptions {
  readonly socketPath: string;
  readonly connect?: Connect;
  readonly timers?: SupervisorTimers;
  readonly backoff?: BackoffPolicy;
  /** Where listener failures and connection trouble are reported; never rethrown. */
  readonly log?: (message: string) => void;
}

type Listener<T> = (value: T) => void;

export class HelperSupervisor {
  private current: HelperState = { kind: 'connecting' };
  private connection: HelperConnection | null = null;
  private retryTimer: unknown = null;
  private attempt = 0;
  /** Bumped on every connect attempt and on stop(); callbacks from older attempts are ignored. */
  private generation = 0;
  private running = false;
  private readonly stateListeners = new Set<Listener<HelperState>>();
  private readonly eventListeners = new Set<Listener<StoredEvent>>();
  private readonly scanListeners = new Set<Listener<ScanRecord>>();
  private readonly connect: Connect;
  private readonly timers: SupervisorTimers;
  private readonly backoff: BackoffPolicy;
  private readonly log: (message: string) => void;

  constructor(private readonly options: SupervisorOptions) {
    this.connect = options.connect ?? ((path) => HelperClient.connect(path, { timeoutMs: 5_000 }));
    this.timers = options.timers ?? REAL_TIMERS;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.log = options.log ?? (() => undefined);
  }

  get state(): HelperState {
    return this.current;
  }

  /** The delay of the next retry is drawn from this attempt number (0 after a success). */
  get failedAttempts(): number {
    return this.attempt;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.setState({ kind: 'connecting' });
    void this.tryConnect();
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    this.cancelRetry();
    const connection = this.connection;
    this.connection = null;
    if (connection !== null) safely(() => connection.close(), this.log);
  }

  /** Retry now instead of waiting out the backoff (e.g. right after the helper was installed). */
  retryNow(): void {
    if (!this.running || this.connection !== null) return;
    this.cancelRetry();
    void this.tryConnect();
  }

  onState(listener: Listener<HelperState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onEvent(listener: Listener<StoredEvent>): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Scan records as the helper pushes them (one per scan, the whole record each time it grows). */
  onScan(listener: Listener<ScanRecord>): () => void {
    this.scanListeners.add(listener);
    return () => this.scanListeners.delete(listener);
  }

  /**
   * Calls the helper. Rejects (never throws synchronously) with HelperUnavailableError when
   * there is no connection, or with the helper's HelperError. Pause and resume answers
   * update the state at once, so the tray does not wait for the next status.
   */
  async call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const connection = this.connection;
    if (connection === null || this.current.kind !== 'connected') {
      const reason = this.current.kind === 'unreachable' ? this.current.reason : 'disconnected';
      throw new HelperUnavailableError('the PortSentry helper is not connected', reason);
    }
    const result = await connection.call(method, params);
    if ((method === 'pause' || method === 'resume') && this.connection === connection) {
      // The pause answer alone; the rest of the status (protection, firewall) comes with the next refresh.
      const current = this.current.kind === 'connected' ? this.current : { kind: 'connected' as const, paused: false };
      this.setState({ ...current, paused: (result as ResultOf<'pause'>).paused, pausedUntil: (result as ResultOf<'pause'>).pausedUntil ?? null });
    }
    return result;
  }

  /** Re-reads the paused flag (the CLI may have paused the helper behind the app's back). */
  async refreshStatus(): Promise<void> {
    const connection = this.connection;
    if (connection === null) return;
    try {
      const status = await connection.call('status', {});
      if (this.connection === connection) this.setState(connectedState(status));
    } catch (error) {
      this.log(`status refresh failed: ${describe(error)}`);
    }
  }

  private async tryConnect(): Promise<void> {
    this.retryTimer = null;
    const generation = ++this.generation;
    let connection: HelperConnection | null = null;
    try {
      connection = await this.connect(this.options.socketPath);
      if (generation !== this.generation) {
        connection.close();
        return;
      }
      const live = connection;
      live.onClose((error) => this.onConnectionLost(live, error));
      await live.subscribe((event) => {
        if (this.connection === live) this.emitEvent(event);
      });
      await live.subscribeScans((record) => {
        if (this.connection !== live) return;
        for (const listener of [...this.scanListeners]) safely(() => listener(record), this.log);
      });
      // Paused, not protecting, degraded: the helper says so when it changes, and the tray
      // follows at once (the status read below covers what changed before this subscription).
      await live.subscribeProtection((state) => {
        if (this.connection === live) this.setState(connectedState(state));
      });
      const status = await live.call('status', {});
      if (generation !== this.generation) {
        live.close();
        return;
      }
      this.connection = live;
      this.attempt = 0;
      this.setState(connectedState(status));
    } catch (error) {
      const failed = connection;
      if (failed !== null) safely(() => failed.close(), this.log);
      if (generation !== this.generation) return;
      this.connection = null;
      this.setState(unreachableState(error));
      this.scheduleRetry();
    }
  }

  private onConnectionLost(connection: HelperConnection, error: Error): void {
    if (this.connection !== connection) return; // an attempt we already gave up on
    this.connection = null;
    this.log(`lost the helper: ${error.message}`);
    this.setState(unreachableState(error));
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    this.cancelRetry();
    const delay = backoffDelay(this.attempt, this.backoff, () => this.timers.random());
    this.attempt += 1;
    this.retryTimer = this.timers.setTimeout(() => void this.tryConnect(), delay);
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(state: HelperState): void {
    if (sameState(this.current, state)) return;
    this.current = state;
    for (const listener of [...this.stateListeners]) safely(() => listener(state), this.log);
  }

  private emitEvent(event: StoredEvent): void {
    for (const listener of [...this.eventListeners]) safely(() => listener(event), this.log);
  }
}

/** The connected state from the helper's status: paused, protecting or not (why), firewall degraded (why). */
export function connectedState(status: Pick<StatusResult, 'paused' | 'pausedUntil' | 'protecting' | 'notProtectingReason' | 'firewall'>): HelperState {
  // Paused is its own state (the tray offers Resume); "not protecting" is every other reason.
  const notProtecting = status.protecting === false && !status.paused ? (status.notProtectingReason ?? 'nothing is being blocked') : null;
  const degraded = status.firewall !== undefined && !status.firewall.inSync ? (status.firewall.problem ?? 'the firewall does not hold what the helper believes') : null;
  return { kind: 'connected', paused: status.paused, pausedUntil: status.pausedUntil ?? null, notProtecting, degraded };
}

function unreachableState(error: unknown): HelperState {
  if (error instanceof HelperUnavailableError) return { kind: 'unreachable', reason: error.reason, message: error.message };
  // A HelperError during subscribe/status means we speak past each other.
  return { kind: 'unreachable', reason: 'protocol', message: describe(error) };
}

function sameState(a: HelperState, b: HelperState): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'connected' && b.kind === 'connected') {
    return a.paused === b.paused && (a.pausedUntil ?? null) === (b.pausedUntil ?? null) && (a.notProtecting ?? null) === (b.notProtecting ?? null) && (a.degraded ?? null) === (b.degraded ?? null);
  }
  if (a.kind === 'unreachable' && b.kind === 'unreachable') return a.reason === b.reason && a.message === b.message;
  return true;
}

function safely(action: () => void, log: (message: string) => void): void {
  try {
    action();
  } catch (error) {
    log(`listener failed: ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
