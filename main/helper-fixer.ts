// Carries out the first-run view's action: asks the user first (a dialog saying why root is
// needed), then runs the one fixed command through sudo-prompt; "log out" asks too and ends
// the session with loginctl; "try again" reconnects. The dialogs and runners come in as
// parameters, so the tests drive every branch and check that nothing runs without consent.

import type { HelperFix, HelperFixResult } from '../shared/desktop-api.js';
import { fixPlan, type SetupFacts } from './helper-setup.js';
import { consentFromDialog, consentText, runPrivileged, type Consent, type InstallResult } from './install-helper.js';

export interface FixerDeps {
  readonly facts: () => Promise<SetupFacts>;
  /** Shows a question; resolves with the index of the button pressed (0 = Cancel). */
  readonly ask: (text: { message: string; detail: string; buttons: readonly [string, string] }) => Promise<number>;
  readonly runPrivileged?: (consent: Consent | null) => Promise<InstallResult>;
  /** Runs an unprivileged program (argv, no shell). */
  readonly run: (argv: readonly string[]) => Promise<void>;
  readonly retry: () => void;
}

export async function fixHelper(action: HelperFix, deps: FixerDeps): Promise<HelperFixResult> {
  const plan = fixPlan(action, await deps.facts());
  switch (plan.kind) {
    case 'refused':
      return { done: false, message: `Nothing was done: ${plan.message}.` };
    case 'manual':
      return { done: false, message: `No graphical password prompt (pkexec or kdesudo) is installed. Run this in a terminal, then press Try again: ${plan.command}` };
    case 'retry':
      deps.retry();
      return { done: true, message: 'Trying to reach the helper again…' };
    case 'run': {
      const answer = await deps.ask({
        message: 'Log out now to finish setting up PortSentry?',
        detail: 'Your new group membership takes effect at the next login. Unsaved work in other applications may be lost.',
        buttons: ['Cancel', 'Log out'],
      });
      if (answer !== 1) return { done: false, message: 'Not logged out. Log out and back in when it suits you.' };
      try {
        await deps.run(plan.argv);
        return { done: true, message: 'Logging out…' };
      } catch (error) {
        return { done: false, message: `Could not log out: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    case 'elevated': {
      const answer = await deps.ask(consentText(plan.plan));
      const result = await (deps.runPrivileged ?? runPrivileged)(consentFromDialog(plan.plan, answer));
      if (!result.ok) return { done: false, message: result.reason === 'no-consent' ? 'Nothing was changed: you did not agree.' : `It did not work: ${result.message}` };
      deps.retry();
      const done = {
        start: 'The helper is starting.',
        install: 'The helper is installed and starting.',
        'join-group': 'You were added to the group. Log out and back in once to use the helper.',
      } as const;
      return { done: true, message: done[plan.plan.kind] };
    }
  }
}
