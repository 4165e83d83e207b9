// What happens when the user answers a notification: Block blocks the scanner, Ignore puts it
// on the ignore list, Open (or a click) shows the dashboard at the event. The notification is
// then replaced (same key, so replaces_id on D-Bus and the same id through node-notifier) by
// one that says what came of the answer, the helper's refusal in its words included, and
// offers only Open: a stale "Block" on a host just blocked is a lie. Plain Node, so the
// notification test drives exactly this against a real helper; the Electron glue only passes
// its supervisor, window opener and notifier in.

import type { MethodName, ParamsOf, ResultOf } from '../shared/protocol/methods.js';
import type { NotificationOutcome } from './desktop-notifier.js';
import type { NotificationAction, NotificationRequest } from './notification-policy.js';

export interface NotificationActionDeps {
  readonly helper: { call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> };
  readonly openDashboard: (eventId: number | undefined) => void;
  readonly log: (message: string) => void;
  /** Raises a notification (the outcome, under the answered one's key). Absent: nothing is shown. */
  readonly show?: (request: NotificationRequest) => void;
}

/** What the answer came to, as the notification that replaces the answered one. */
export function answeredNotification(request: NotificationRequest, action: NotificationAction, result: { ok: true; until?: number | null } | { ok: false; message: string }): NotificationRequest {
  const source = request.source ?? '';
  const base = { key: request.key, update: true, source: request.source, actions: [] as NotificationAction[], openEventId: request.openEventId };
  if (!result.ok) {
    return { ...base, blocked: request.blocked, title: action === 'block' ? `Not blocked: ${source}` : `Not ignored: ${source}`, body: `The helper refused: ${result.message}` };
  }
  if (action === 'block') {
    const until = result.until === undefined || result.until === null ? 'until you unblock it' : `until ${new Date(result.until).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
    return { ...base, blocked: true, title: `Blocked ${source}`, body: `Blocked from this notification, ${until}.` };
  }
  return { ...base, blocked: request.blocked, title: `Ignoring ${source}`, body: 'On the ignore list: it is not blocked for scans from now on.' };
}

/** Carries out the user's answer; never rejects (a refusal is logged in words and shown). */
export async function handleNotificationOutcome(request: NotificationRequest, outcome: NotificationOutcome, deps: NotificationActionDeps): Promise<void> {
  try {
    switch (outcome.kind) {
      case 'clicked':
        deps.openDashboard(request.openEventId ?? undefined);
        return;
      case 'action': {
        // The aggregate names no source: its only answer is Open.
        if (request.source === null) return;
        let result: Parameters<typeof answeredNotification>[2];
        try {
          if (outcome.action === 'block') {
            const answer = await deps.helper.call('block', { address: request.source, reason: 'blocked from a notification' });
            result = { ok: true, until: answer.until };
          } else {
            await deps.helper.call('ignore.add', { entry: request.source, comment: 'ignored from a notification' });
            result = { ok: true };
          }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          deps.log(`notification action failed: ${message}`);
          result = { ok: false, message };
        }
        deps.show?.(answeredNotification(request, outcome.action, result));
        return;
      }
      case 'failed':
        deps.log(`notification failed: ${outcome.message}`);
        return;
      case 'shown':
        return;
    }
  } catch (error) {
    deps.log(`notification action failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
