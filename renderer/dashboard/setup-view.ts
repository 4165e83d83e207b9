// The first-run and helper-status view: shown whenever the helper is not running and
// reachable (and, until the helper has answered once, while connecting too: then it is all the
// window shows), it says what is wrong (not installed, not running and why it stopped,
// permission denied, needs a new login) and offers the one action that fixes it, or, with no
// graphical password prompt, the exact command to run in a terminal. Main decides the state
// and carries out the action; anything that needs root is asked for there, after the user agreed.

import type { HelperSetup, PortSentryApi } from '../../shared/desktop-api.js';
import { describeError } from '../lib/api.js';
import { byId } from '../lib/dom.js';

export class SetupView {
  private setup: HelperSetup | null = null;
  private busy = false;
  private generation = 0;

  /** `firstRun`: the helper has not answered this window yet (the card then stands alone, connecting included). */
  constructor(
    private readonly api: PortSentryApi,
    private readonly firstRun: () => boolean,
  ) {
    byId('setup-action').addEventListener('click', () => void this.fix());
  }

  /** Asks main again (after every helper state change). */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    try {
      const setup = await this.api.helperSetup();
      if (generation !== this.generation) return;
      this.setup = setup;
      this.render();
    } catch (error) {
      byId('setup-status').textContent = describeError(error, 'check the helper');
    }
  }

  private render(): void {
    const setup = this.setup;
    const panel = byId('setup');
    panel.hidden = setup === null || setup.state === 'running' || (setup.state === 'connecting' && !this.firstRun());
    panel.dataset['state'] = setup?.state ?? '';
    if (setup === null) return;
    byId('setup-heading').textContent = setup.title;
    byId('setup-detail').textContent = setup.detail;
    // Without a password prompt the action could only say "run this": the command stands in for it.
    const command = setup.command ?? null;
    byId('setup-manual').hidden = command === null;
    byId('setup-command').textContent = command ?? '';
    const button = byId<HTMLButtonElement>('setup-action');
    button.hidden = setup.action === null || command !== null;
    button.disabled = this.busy;
    button.textContent = setup.action === null ? '' : `${setup.action.label}${setup.action.elevated ? '…' : ''}`;
    button.dataset['fix'] = setup.action?.id ?? '';
    byId('setup-elevation').hidden = setup.action?.elevated !== true || command !== null;
  }

  private async fix(): Promise<void> {
    const action = this.setup?.action;
    if (action === null || action === undefined || this.busy) return;
    this.busy = true;
    this.render();
    byId('setup-status').textContent = action.elevated ? 'Waiting for your agreement and the administrator password…' : 'Working…';
    try {
      const result = await this.api.fixHelper(action.id);
      byId('setup-status').textContent = result.message;
    } catch (error) {
      byId('setup-status').textContent = describeError(error, action.label.toLowerCase());
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }
}
