// The dashboard window: wires the helper state, the live event list, the blocked hosts and
// the charts to window.portsentry. Entry point of dashboard.html.

import type { HelperState, PortSentryApi } from '../../shared/desktop-api.js';
import { describeError, getApi } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { applyTheme } from '../lib/theme.js';
import { BlocksView } from './blocks-view.js';
import { EventsView } from './events-view.js';

class Dashboard {
  private readonly events: EventsView;
  private readonly blocks: BlocksView;
  private state: HelperState = { kind: 'connecting' };

  constructor(private readonly api: PortSentryApi) {
    this.events = new EventsView(api);
    this.blocks = new BlocksView(api);
    // Subscribe before loading, so nothing that happens during the load is missed.
    api.onEvent((event) => {
      this.events.add(event);
      if (event.type === 'block' || (event.type === 'scan' && event.action === 'blocked')) this.blocks.scheduleReload();
    });
    api.onHelperState((state) => this.setState(state));
    api.onFocusEvent((id) => void this.events.focusEvent(id));
    byId('pause-toggle').addEventListener('click', () => void this.togglePause());
    // The theme may have been changed in the settings window meanwhile.
    window.addEventListener('focus', () => void this.loadTheme());
  }

  async start(): Promise<void> {
    this.renderState();
    await this.loadTheme();
    await this.loadAll();
  }

  private async loadTheme(): Promise<void> {
    try {
      applyTheme((await this.api.getPreferences()).theme);
    } catch {
      /* keep the current theme; the banner reports real trouble */
    }
  }

  private async loadAll(): Promise<void> {
    try {
      const status = await this.api.status();
      if (this.state.kind !== 'connected' || this.state.paused !== status.paused) this.state = { kind: 'connected', paused: status.paused };
    } catch (error) {
      if (this.state.kind !== 'unreachable') this.state = { kind: 'unreachable', reason: 'disconnected', message: describeError(error, 'reach the helper') };
    }
    this.renderState();
    await Promise.all([this.events.reload(), this.blocks.reload()]);
  }

  private setState(state: HelperState): void {
    const wasUnreachable = this.state.kind === 'unreachable';
    this.state = state;
    this.renderState();
    // Back after an outage: events may have been missed, reload everything.
    if (state.kind === 'connected' && wasUnreachable) void this.loadAll();
  }

  private renderState(): void {
    const banner = byId('helper-banner');
    const text = byId('helper-banner-text');
    const toggle = byId<HTMLButtonElement>('pause-toggle');
    banner.className = `banner banner-${this.state.kind}`;
    switch (this.state.kind) {
      case 'connecting':
        text.textContent = 'Connecting to the PortSentry helper…';
        break;
      case 'unreachable':
        text.textContent = `The PortSentry helper is unreachable (${REASONS[this.state.reason]}): ${this.state.message}`;
        break;
      case 'connected':
        text.textContent = this.state.paused ? 'Detection is paused: scans are not being answered.' : 'Protected: the helper is watching.';
        if (this.state.paused) banner.classList.add('banner-paused');
        break;
    }
    toggle.disabled = this.state.kind !== 'connected';
    toggle.textContent = this.state.kind === 'connected' && this.state.paused ? 'Resume detection' : 'Pause detection';
  }

  private async togglePause(): Promise<void> {
    if (this.state.kind !== 'connected') return;
    try {
      const result = this.state.paused ? await this.api.resume() : await this.api.pause();
      this.state = { kind: 'connected', paused: result.paused };
      this.renderState();
    } catch (error) {
      byId('helper-banner-text').textContent = describeError(error, this.state.paused ? 'resume detection' : 'pause detection');
    }
  }
}

const REASONS: Readonly<Record<Extract<HelperState, { kind: 'unreachable' }>['reason'], string>> = {
  'not-running': 'not running',
  'permission-denied': 'permission denied',
  disconnected: 'connection lost',
  timeout: 'no answer',
  protocol: 'unexpected answer',
};

void new Dashboard(getApi()).start();
