// Desktop notifications on Linux that can be answered: the freedesktop notification service
// (org.freedesktop.Notifications) over the session D-Bus, through @homebridge/dbus-native
// (pure JavaScript, no native addon). Buttons Block / Ignore and one Open (the default
// action: a click), a refresh or the outcome of an answer replaces the notification in place
// (replaces_id), and the answer comes back as an ActionInvoked signal, accepted only from the
// service that owns the name now: when the service restarts (NameOwnerChanged), the new owner
// is followed and the old one's notifications are let go.
// node-notifier stays the backend on macOS and Windows (desktop-notifier.ts).

import { createRequire } from 'node:module';
import { createConnection, type Socket } from 'node:net';
import type { NotificationAction, NotificationRequest } from './notification-policy.js';

export const NOTIFICATIONS_NAME = 'org.freedesktop.Notifications';
const NOTIFICATIONS_PATH = '/org/freedesktop/Notifications';
const DBUS_SIGNAL = 4;
const BUS_NAME = 'org.freedesktop.DBus';
/** Open notifications waiting for an answer; older ones are let go (resolved as shown). */
const MAX_PENDING = 64;

export type DbusOutcome = { readonly kind: 'shown' } | { readonly kind: 'clicked' } | { readonly kind: 'action'; readonly action: NotificationAction };

/** A session-bus address we can reach: a socket path or a Linux abstract socket name. */
export type BusEndpoint = { readonly path: string } | { readonly abstract: string };

/**
 * The first usable entry of a D-Bus address list ("unix:path=/run/user/1000/bus",
 * "unix:abstract=/tmp/dbus-x,guid=..."); values may be %-escaped. Null when none is.
 */
export function parseBusAddress(address: string | undefined): BusEndpoint | null {
  if (address === undefined) return null;
  for (const entry of address.split(';')) {
    const colon = entry.indexOf(':');
    if (colon < 0 || entry.slice(0, colon) !== 'unix') continue;
    const params = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      try {
        params.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)));
      } catch {
        /* a malformed escape: skip the key */
      }
    }
    const path = params.get('path');
    if (path !== undefined && path.startsWith('/')) return { path };
    const abstract = params.get('abstract');
    if (abstract !== undefined && abstract !== '') return { abstract };
  }
  return null;
}

const BUTTONS: ReadonlyArray<readonly [string, string]> = [
  ['block', 'Block'],
  ['ignore', 'Ignore'],
];

/** Keeps letters, digits, spaces and harmless punctuation (no markup: the body may be parsed as such). */
export function notificationText(text: string, max: number): string {
  return text
    .replace(/[^A-Za-z0-9 .,:;()/+\-_#@]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, max);
}

export interface NotifyArgs {
  readonly appName: string;
  readonly replacesId: number;
  readonly icon: string;
  readonly summary: string;
  readonly body: string;
  /** Pairs of key and label, flattened as the spec wants. */
  readonly actions: readonly string[];
  readonly hints: ReadonlyArray<readonly [string, readonly [string, string | number]]>;
  readonly timeoutMs: number;
}

/** The Notify call for a request: text flattened, the actions it offers plus Open, hints for the daemon. */
export function notifyArgs(request: NotificationRequest, replacesId: number, icon = ''): NotifyArgs {
  // One Open: the default action (a click, and its own entry in menus such as dunst's).
  const actions: string[] = ['default', 'Open'];
  for (const [key, label] of BUTTONS) if (request.actions.includes(key as NotificationAction)) actions.push(key, label);
  const hints: Array<readonly [string, readonly [string, string | number]]> = [
    ['category', ['s', 'network.security']],
    ['urgency', ['y', request.blocked ? 1 : 2]],
    ['desktop-entry', ['s', 'portsentry-desktop']],
    // dunst also stacks by this tag; replaces_id does it for every daemon.
    ['x-dunst-stack-tag', ['s', notificationText(request.key, 64).replace(/ /g, '_')]],
  ];
  if (icon !== '') hints.push(['image-path', ['s', icon]]);
  return {
    appName: 'PortSentry',
    replacesId,
    icon,
    summary: notificationText(request.title, 120),
    body: notificationText(request.body, 300),
    actions,
    hints,
    // Unanswered, a scan alert stays until the user dismisses it (critical) or the daemon's default.
    timeoutMs: -1,
  };
}

/** Maps an ActionInvoked key back to what the user did. */
export function outcomeOfAction(key: string): DbusOutcome {
  if (key === 'block' || key === 'ignore') return { kind: 'action', action: key };
  return { kind: 'clicked' };
}

interface DbusMessage {
  readonly type: number;
  readonly sender?: string;
  readonly interface?: string;
  readonly member?: string;
  readonly body?: unknown[];
}

interface DbusBus {
  readonly connection: { on(event: 'message', listener: (message: DbusMessage) => void): void; on(event: 'error' | 'end', listener: (error?: Error) => void): void; end(): void };
  invoke(message: Record<string, unknown>, callback: (error: unknown, ...values: unknown[]) => void): void;
  addMatch(rule: string, callback: (error: unknown) => void): void;
}

interface Pending {
  readonly resolve: (outcome: DbusOutcome) => void;
}

export class DbusNotifier {
  /** Notification id by request key, so a refresh replaces instead of stacking. */
  private readonly idsByKey = new Map<string, number>();
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly bus: DbusBus,
    /** The unique bus name of the notification service now: signals from anyone else are ignored. */
    private serviceOwner: string,
  ) {
    bus.connection.on('message', (message) => this.onMessage(message));
    const lost = () => this.shutdown();
    bus.connection.on('error', lost);
    bus.connection.on('end', lost);
  }

  /** Connects to the session bus and checks a notification service is there. Rejects otherwise. */
  static async connect(address = process.env.DBUS_SESSION_BUS_ADDRESS, timeoutMs = 5000): Promise<DbusNotifier> {
    const endpoint = parseBusAddress(address);
    if (endpoint === null) throw new Error('no usable session bus address (DBUS_SESSION_BUS_ADDRESS)');
    // Node reaches Linux abstract sockets with a leading NUL; no native module needed.
    const stream: Socket = createConnection('path' in endpoint ? endpoint.path : `\0${endpoint.abstract}`);
    const dbus = createRequire(import.meta.url)('@homebridge/dbus-native') as { createClient(options: { stream: Socket }): DbusBus };
    const bus = dbus.createClient({ stream });
    const call = <T>(message: Record<string, unknown>): Promise<T> =>
      withTimeout(
        new Promise<T>((resolve, reject) => bus.invoke(message, (error, value) => (error ? reject(new Error(describeDbusError(error))) : resolve(value as T)))),
        timeoutMs,
        'the session bus did not answer',
      );
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          stream.once('error', reject);
          bus.addMatch(`type='signal',interface='${NOTIFICATIONS_NAME}',path='${NOTIFICATIONS_PATH}'`, (error) => {
            if (error) return reject(new Error(describeDbusError(error)));
            // The service may restart (an update, a crash, a new session of it): its new owner is followed.
            bus.addMatch(`type='signal',sender='${BUS_NAME}',interface='${BUS_NAME}',member='NameOwnerChanged',arg0='${NOTIFICATIONS_NAME}'`, (second) =>
              second ? reject(new Error(describeDbusError(second))) : resolve(),
            );
          });
        }),
        timeoutMs,
        'the session bus did not answer',
      );
      const owner = await call<string>({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'GetNameOwner',
        signature: 's',
        body: [NOTIFICATIONS_NAME],
      });
      return new DbusNotifier(bus, owner);
    } catch (error) {
      stream.destroy();
      throw error;
    }
  }

  /** Whether a bus name has an owner now (e.g. the tray host's StatusNotifierWatcher). */
  nameHasOwner(name: string): Promise<boolean> {
    return new Promise((resolve, reject) =>
      this.bus.invoke({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'NameHasOwner', signature: 's', body: [name] }, (error, has) =>
        error ? reject(new Error(describeDbusError(error))) : resolve(Boolean(has)),
      ),
    );
  }

  /** True once the bus connection is gone; the caller then falls back or reconnects. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Shows (or replaces) the notification; resolves with what the user did, or "shown" when it closes unanswered. */
  notify(request: NotificationRequest, icon = ''): Promise<DbusOutcome> {
    if (this.closed) return Promise.reject(new Error('the session bus connection is closed'));
    const args = notifyArgs(request, this.idsByKey.get(request.key) ?? 0, icon);
    return new Promise<number>((resolve, reject) => {
      this.bus.invoke(
        {
          destination: NOTIFICATIONS_NAME,
          path: NOTIFICATIONS_PATH,
          interface: NOTIFICATIONS_NAME,
          member: 'Notify',
          signature: 'susssasa{sv}i',
          body: [args.appName, args.replacesId, args.icon, args.summary, args.body, [...args.actions], args.hints.map(([k, v]) => [k, [...v]]), args.timeoutMs],
        },
        (error, id) => (error ? reject(new Error(describeDbusError(error))) : resolve(Number(id))),
      );
    }).then(
      (id) =>
        new Promise<DbusOutcome>((resolve) => {
          this.idsByKey.set(request.key, id);
          // A refresh keeps the id: the earlier promise is done, the new one waits for the answer.
          this.pending.get(id)?.resolve({ kind: 'shown' });
          this.pending.set(id, { resolve });
          while (this.pending.size > MAX_PENDING) {
            const [oldest, entry] = this.pending.entries().next().value as [number, Pending];
            this.pending.delete(oldest);
            entry.resolve({ kind: 'shown' });
          }
          while (this.idsByKey.size > MAX_PENDING * 4) this.idsByKey.delete(this.idsByKey.keys().next().value as string);
        }),
    );
  }

  close(): void {
    this.shutdown();
    this.bus.connection.end();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.pending.values()) entry.resolve({ kind: 'shown' });
    this.pending.clear();
  }

  /** The notification service changed hands: its notifications are gone, answers now come from the new owner. */
  private onOwnerChanged(newOwner: string): void {
    this.serviceOwner = newOwner;
    for (const entry of this.pending.values()) entry.resolve({ kind: 'shown' });
    this.pending.clear();
    this.idsByKey.clear();
  }

  private onMessage(message: DbusMessage): void {
    if (message.type === DBUS_SIGNAL && message.sender === BUS_NAME && message.interface === BUS_NAME && message.member === 'NameOwnerChanged') {
      const [name, , newOwner] = message.body ?? [];
      if (name === NOTIFICATIONS_NAME && typeof newOwner === 'string') this.onOwnerChanged(newOwner);
      return;
    }
    if (message.type !== DBUS_SIGNAL || message.interface !== NOTIFICATIONS_NAME || message.sender !== this.serviceOwner) return;
    const [id, detail] = message.body ?? [];
    if (typeof id !== 'number') return;
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    if (message.member === 'ActionInvoked' && typeof detail === 'string') {
      this.pending.delete(id);
      entry.resolve(outcomeOfAction(detail));
    } else if (message.member === 'NotificationClosed') {
      this.pending.delete(id);
      entry.resolve({ kind: 'shown' });
    }
  }
}

function describeDbusError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const message = (error as { message: unknown }).message;
    return Array.isArray(message) ? message.join(' ') : String(message);
  }
  return String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
