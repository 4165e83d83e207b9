// The dashboard window: wires the helper state (header with status details, pause with a
// duration, the first-run view: until the helper has answered once, the setup card alone),
// the blocked hosts, the live event list with its row actions,
// the per-scanner view and the helper's statistics to window.portsentry. Entry point of
// dashboard.html.

import type { HelperState, PortSentryApi } from '../../shared/desktop-api.js';
import type { BlockEntry, StatusResult } from '../../shared/protocol/schemas.js';
import { describeError, getApi } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { formatTime } from '../lib/format.js';
import { applyTheme } from '../lib/theme.js';
import { BlocksView } from './blocks-view.js';
import { EventsView, type RowActions } from './events-view.js';
import { ScannerView } from './scanner-view.js';
import { ScannersView } from './scanners-view.js';
import { NetworkOwnerCache } from './network-owners.js';
import { SetupView } from './setup-view.js';
import { StatsView } from './stats-view.js';
import { protectionBanner, statusDetails, trustSentence } from './status-text.js';

class Dashboard {
  private readonly events: EventsView;
  private readonly blocks: BlocksView;
  private readonly stats: StatsView;
  private readonly scanner: ScannerView;
  private readonly scanners: ScannersView;
  private readonly setup: SetupView;
  private state: HelperState = { kind: 'connecting' };
  private status: StatusResult | null = null;
  /** The helper has answered this window at least once; before that only the setup card shows. */
  private answered = false;

  constructor(private readonly api: PortSentryApi) {
    this.blocks = new BlocksView(api, (address, seconds) => this.trust(address, seconds));
    const actions: RowActions = {
      isBlocked: (address) => this.blocks.isBlocked(address),
      toggleBlock: async (address) => this.say(await this.blocks.toggle(address, 'the dashboard')),
      ignore: (address) => this.trust(address),
      allow: (address, seconds) => this.trust(address, seconds),
      copy: async (address) => {
        try {
          await api.copyAddress(address);
          this.say(`${address} copied.`);
        } catch (error) {
          this.say(describeError(error, `copy ${address}`));
        }
      },
      openScanner: (address) => void this.scanner.open(address),
    };
    this.events = new EventsView(api, actions);
    this.scanners = new ScannersView(api, actions, {
      since: () => this.events.since(),
      search: () => this.events.searchText(),
      blocks: () => this.blocks.list() ?? [],
      latest: (address) => this.events.latestFor(address),
      name: (address) => this.events.nameFor(address),
      owner: (address) => owners.text(address),
    });
    const owners = new NetworkOwnerCache(api, () => this.scanners.render());
    this.scanners.onShown((addresses) => void owners.want(addresses));
    this.events.onRender(() => this.scanners.render());
    this.stats = new StatsView(api, () => this.events.since());
    this.scanner = new ScannerView(
      api,
      actions,
      () => this.events.since(),
      () => this.blocks.list() ?? [],
    );
    this.setup = new SetupView(api, () => !this.answered);
    this.blocks.onChange(() => {
      this.renderState(); // the header counts the list itself
      void this.loadStatus();
      this.events.refreshBlockButtons();
      this.scanner.relabel();
      // Blocks and the ignore list change together (Ignore lifts blocks): both read afresh.
      this.scanners.scheduleReload();
    });
    this.events.onRangeChange(() => {
      void this.stats.reload();
      this.scanners.render();
    });
    // Subscribe before loading, so nothing that happens during the load is missed.
    api.onEvent((event) => {
      this.events.add(event);
      this.stats.scheduleReload();
      if (event.type === 'scan') this.scanners.scheduleReload();
      if (event.type === 'block' || (event.type === 'scan' && event.action === 'blocked')) this.blocks.scheduleReload();
    });
    // Scan records reach the store once a tick, after their probes' events: the list of
    // scanners reads them again when the helper says one changed.
    api.onScan(() => this.scanners.scheduleReload());
    api.onHelperState((state) => this.setState(state));
    api.onFocusEvent((id) => void this.events.focusEvent(id));
    byId('pause-toggle').addEventListener('click', () => void this.togglePause());
    // The theme may have been changed in the settings window meanwhile.
    window.addEventListener('focus', () => void this.loadTheme());
    // Uptime and a timed pause's end age on their own.
    window.setInterval(() => void this.loadStatus(), 15_000);
  }

  async start(): Promise<void> {
    this.renderState();
    await this.loadTheme();
    await this.loadAll();
  }

  private say(text: string): void {
    byId('events-status').textContent = text;
    byId('trust-undo').hidden = true;
  }

  /**
   * Ignore (for good, or allowed for `seconds`): the helper adds the entry and lifts the
   * blocks it covers; the page says what was lifted and offers Undo, which removes the entry
   * and puts those blocks back with the time they had left.
   */
  private async trust(address: string, seconds?: number): Promise<void> {
    try {
      const result = await this.api.addIgnored({ entry: address, comment: 'trusted from the dashboard', ...(seconds === undefined ? {} : { durationSeconds: seconds }) });
      await this.blocks.reload();
      const lifted = result.lifted ?? [];
      this.say(
        trustSentence(
          address,
          result.until ?? null,
          lifted.map((b) => b.address),
        ),
      );
      const undo = byId<HTMLButtonElement>('trust-undo');
      undo.hidden = false;
      undo.onclick = () => void this.undoTrust(address, lifted);
    } catch (error) {
      this.say(describeError(error, `ignore ${address}`));
    }
  }

  private async undoTrust(address: string, lifted: readonly BlockEntry[]): Promise<void> {
    try {
      const result = await this.api.undoIgnored({ entry: address, reblock: [...lifted] });
      await this.blocks.reload();
      const back = result.reblocked.length === 0 ? '' : ` ${result.reblocked.join(', ')} ${result.reblocked.length === 1 ? 'is' : 'are'} blocked again.`;
      this.say(`${address} is off the ignore list.${back}`);
    } catch (error) {
      this.say(describeError(error, `undo the ignore of ${address}`));
    }
  }

  private async loadTheme(): Promise<void> {
    try {
      applyTheme((await this.api.getPreferences()).theme);
    } catch {
      /* keep the current theme; the banner reports real trouble */
    }
  }

  private async loadStatus(): Promise<void> {
    if (this.state.kind !== 'connected') return;
    try {
      this.status = await this.api.status();
      this.renderState();
    } catch {
      /* the helper state push says what is wrong */
    }
  }

  private async loadAll(): Promise<void> {
    try {
      const status = await this.api.status();
      this.status = status;
      this.state = { kind: 'connected', paused: status.paused, pausedUntil: status.pausedUntil ?? null };
      this.answered = true;
    } catch (error) {
      if (this.state.kind !== 'unreachable') this.state = { kind: 'unreachable', reason: 'disconnected', message: describeError(error, 'reach the helper') };
    }
    this.renderState();
    // Never answered: the panels stay hidden and unloaded (each would only say "not connected").
    await Promise.all([...(this.answered ? [this.events.reload(), this.blocks.reload(), this.blocks.showBounds(), this.stats.reload(), this.scanners.reload()] : []), this.setup.refresh()]);
  }

  private setState(state: HelperState): void {
    const wasUnreachable = this.state.kind !== 'connected';
    this.state = state;
    this.renderState();
    void this.setup.refresh();
    // Back after an outage: events may have been missed, reload everything.
    if (state.kind === 'connected' && wasUnreachable) void this.loadAll();
    else if (state.kind === 'connected') void this.loadStatus();
  }

  private renderState(): void {
    const banner = byId('helper-banner');
    const text = byId('helper-banner-text');
    const toggle = byId<HTMLButtonElement>('pause-toggle');
    const duration = byId<HTMLSelectElement>('pause-duration');
    banner.className = `banner banner-${this.state.kind}`;
    // First run: the setup card says everything; a banner and empty panels would only repeat it as errors.
    const alone = !this.answered && this.state.kind !== 'connected';
    banner.hidden = alone;
    byId('pause-controls').hidden = alone;
    byId('dashboard-panels').hidden = alone;
    // The blocked count is the list's own length, so header and list never disagree.
    byId('helper-details').textContent = this.state.kind === 'connected' && this.status !== null ? statusDetails(this.status, Date.now(), this.blocks.list()?.length) : '';
    switch (this.state.kind) {
      case 'connecting':
        text.textContent = 'Connecting to the PortSentry helper…';
        break;
      case 'unreachable':
        text.textContent = `The PortSentry helper is unreachable (${REASONS[this.state.reason]}): ${this.state.message}`;
        break;
      case 'connected': {
        const until = this.state.pausedUntil ?? null;
        // The pause is known from the supervisor's state at once; the rest from the helper's status.
        const said = protectionBanner(this.status === null ? null : { ...this.status, paused: this.state.paused }, until === null ? null : formatTime(until).slice(11, 16));
        text.textContent = said.text;
        if (said.warn) banner.classList.add('banner-paused');
        break;
      }
    }
    const paused = this.state.kind === 'connected' && this.state.paused;
    toggle.disabled = this.state.kind !== 'connected';
    duration.disabled = this.state.kind !== 'connected';
    duration.hidden = paused;
    toggle.textContent = paused ? 'Resume' : 'Pause';
  }

  private async togglePause(): Promise<void> {
    if (this.state.kind !== 'connected') return;
    const resume = this.state.paused;
    try {
      const seconds = byId<HTMLSelectElement>('pause-duration').value;
      const result = resume ? await this.api.resume() : await this.api.pause(seconds === '' ? {} : { durationSeconds: Number(seconds) });
      this.state = { kind: 'connected', paused: result.paused, pausedUntil: result.pausedUntil ?? null };
      this.renderState();
      void this.loadStatus();
    } catch (error) {
      byId('helper-banner-text').textContent = describeError(error, resume ? 'resume detection' : 'pause detection');
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
