// Raises the notifications the policy asks for: on Linux through the freedesktop service over
// D-Bus (dbus-notifier.ts: buttons, clicks, replacement in place), falling back to
// node-notifier's notify-send when there is no session bus; on macOS and Windows through
// node-notifier (Notification Center, toasts). Plain Node: the tests run it for real against
// a notification daemon.
//
// Two things node-notifier does that shape this module:
// - On Linux it runs notify-send through a shell (child_process.exec) with its own quoting,
//   so every text is reduced here to a plain character set first; the policy's texts are
//   addresses, numbers and fixed words anyway, this is the second line of defence.
// - notify-send has no actions and no click callback; actions are offered only where the
//   platform backend supports them, and on Linux the stack tag hint makes a refresh replace
//   the earlier notification instead of stacking a new one.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DbusNotifier } from './dbus-notifier.js';
import { APP_USER_MODEL_ID } from './app-identity.js';
import type { NotificationAction, NotificationRequest } from './notification-policy.js';

export const APP_NAME = 'PortSentry';

/** node-notifier's callback-style API, typed to what this module uses. */
export interface NodeNotifier {
  notify(options: Record<string, unknown>, callback: (error: Error | string | null, response?: string, metadata?: Record<string, unknown>) => void): unknown;
}

export type NotificationOutcome =
  { readonly kind: 'shown' } | { readonly kind: 'clicked' } | { readonly kind: 'action'; readonly action: NotificationAction } | { readonly kind: 'failed'; readonly message: string };

const ACTION_LABELS: Record<NotificationAction, string> = { block: 'Block', ignore: 'Ignore' };

/** Backends whose node-notifier wrapper reports clicks and action buttons. */
export function supportsActions(platform: NodeJS.Platform): boolean {
  return platform === 'darwin' || platform === 'win32';
}

/** Keeps letters, digits, spaces and harmless punctuation; everything else becomes a space. */
export function plainText(text: string, max = 200): string {
  return text
    .replace(/[^A-Za-z0-9 .,:;()/+\-_#@]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, max);
}

export function notifierOptions(request: NotificationRequest, platform: NodeJS.Platform, icon?: string): Record<string, unknown> {
  const options: Record<string, unknown> = {
    title: plainText(request.title, 120),
    message: plainText(request.body, 300),
  };
  if (icon !== undefined) options.icon = icon;
  if (supportsActions(platform)) {
    if (request.actions.length > 0) options.actions = request.actions.map((a) => ACTION_LABELS[a]);
    // Wait for the user so the callback tells us about clicks and buttons.
    options.wait = true;
    options.timeout = 30;
    options.id = plainText(request.key, 64);
    // SnoreToast attributes the toast to this AppUserModelID (set by main, and on the shortcut).
    if (platform === 'win32') options.appID = APP_USER_MODEL_ID;
  } else {
    options['app-name'] = APP_NAME;
    options.urgency = request.blocked ? 'normal' : 'critical';
    options.category = 'network.security';
    // dunst (and other daemons honouring it) replace a notification with the same stack tag.
    options.hint = `string:x-dunst-stack-tag:${plainText(request.key, 64).replace(/ /g, '_')}`;
  }
  return options;
}

/** Maps node-notifier's callback arguments to what the user did. */
export function interpretResponse(response: string | undefined, metadata: Record<string, unknown> | undefined): NotificationOutcome {
  const value = metadata?.activationValue;
  for (const [action, label] of Object.entries(ACTION_LABELS) as [NotificationAction, string][]) {
    if (value === label || response === label.toLowerCase()) return { kind: 'action', action };
  }
  const type = typeof metadata?.activationType === 'string' ? metadata.activationType : '';
  if (response === 'activate' || type === 'contentsClicked' || type === 'clicked') return { kind: 'clicked' };
  return { kind: 'shown' };
}

let cached: NodeNotifier | undefined;
/** node-notifier is CommonJS and picks its backend when loaded; load it only when needed. */
export function defaultNotifier(): NodeNotifier {
  cached ??= createRequire(import.meta.url)('node-notifier') as NodeNotifier;
  return cached;
}

export interface RaiseOptions {
  readonly notifier?: NodeNotifier;
  readonly platform?: NodeJS.Platform;
  readonly icon?: string;
  /** The D-Bus notifier to use on Linux; default: the shared session-bus one, null: node-notifier only. */
  readonly dbus?: (() => Promise<DbusNotifier | null>) | null;
}

let shared: Promise<DbusNotifier | null> | null = null;
/** One session-bus connection for the app, made on first use and again after it is lost. */
export function sharedDbusNotifier(): Promise<DbusNotifier | null> {
  if (shared !== null) {
    const current = shared;
    return current.then((notifier) => {
      if (notifier !== null && !notifier.isClosed) return notifier;
      if (shared === current) shared = null;
      return sharedDbusNotifier();
    });
  }
  shared = DbusNotifier.connect().catch(() => null);
  return shared;
}

/**
 * The app's icon for notifications: the packaged copy in the resources, else the one in the
 * source tree (development runs). Undefined when neither is there.
 */
export function defaultIconPath(resourcesPath: string | undefined = (process as { resourcesPath?: string }).resourcesPath): string | undefined {
  const candidates = [...(resourcesPath === undefined ? [] : [`${resourcesPath}/icons/portsentry.png`]), fileURLToPath(new URL('../../build/icons/128x128.png', import.meta.url))];
  return candidates.find((path) => existsSync(path));
}

/** Raises one notification. Never rejects: a missing notification daemon is not the app's crash. */
export async function raiseNotification(request: NotificationRequest, options: RaiseOptions = {}): Promise<NotificationOutcome> {
  const platform = options.platform ?? process.platform;
  if (platform === 'linux' && options.notifier === undefined && options.dbus !== null) {
    const dbus = await (options.dbus ?? sharedDbusNotifier)().catch(() => null);
    if (dbus !== null) {
      try {
        return await dbus.notify(request, options.icon ?? defaultIconPath() ?? '');
      } catch {
        /* the service went away mid-call: notify-send below still may work */
      }
    }
  }
  return raiseWithNodeNotifier(request, platform, options);
}

function raiseWithNodeNotifier(request: NotificationRequest, platform: NodeJS.Platform, options: RaiseOptions): Promise<NotificationOutcome> {
  return new Promise((resolve) => {
    try {
      (options.notifier ?? defaultNotifier()).notify(notifierOptions(request, platform, options.icon), (error, response, metadata) => {
        // notify-send writes warnings to stderr, which node-notifier passes as a string "error".
        if (error instanceof Error) resolve({ kind: 'failed', message: error.message });
        else resolve(interpretResponse(response, metadata));
      });
    } catch (error) {
      resolve({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  });
}
