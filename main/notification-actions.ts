// What happens when the user answers a notification: Block blocks the scanner, Ignore puts it
// on the ignore list, Open (or a click) shows the dashboard at the event. Plain Node, so the
// notification test drives exactly this against a real helper; the Electron glue only passes
// its supervisor and window opener in.

import type { MethodName, ParamsOf, ResultOf } from '../shared/protocol/methods.js';
import type { NotificationOutcome } from './desktop-notifier.js';
import type { NotificationRequest } from './notification-policy.js';

export interface NotificationActionDeps {
  readonly helper: { call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> };
  readonly openDashboard: (eventId: number | undefined) => void;
  readonly log: (message: string) => void;
}

/** Carries out the user's answer; never rejects (a refusal is logged in words). */
export async function handleNotificationOutcome(request: NotificationRequest, outcome: NotificationOutcome, deps: NotificationActionDeps): Promise<void> {
  try {
    switch (outcome.kind) {
      case 'clicked':
        deps.openDashboard(request.openEventId ?? undefined);
        return;
      case 'action':
        // The aggregate names no source: its only answer is Open.
        if (request.source === null) return;
        if (outcome.action === 'block') await deps.helper.call('block', { address: request.source, reason: 'blocked from a notification' });
        else await deps.helper.call('ignore.add', { entry: request.source, comment: 'ignored from a notification' });
        return;
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
