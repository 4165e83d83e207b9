// The live scan list: what was loaded plus what arrives, filtered by the helper query (time
// range included) and a local search, drawn as a table that is one tab stop (arrow keys move
// between rows and along a row's actions: block or unblock, ignore, copy the address, and the
// host opens the per-scanner view).

import type { PortSentryApi } from '../../shared/desktop-api.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { describeError } from '../lib/api.js';
import { byId, h, showFieldError } from '../lib/dom.js';
import { ACTION_LABELS, KIND_LABELS, formatTime } from '../lib/format.js';
import { GridNavigation } from '../lib/grid-nav.js';
import { listParams, matchesFilter, matchesSearch, parseFilter, toCsv, toJson, type EventFilter, type ScanEvent } from './event-model.js';
import { notBlockedReason } from './block-model.js';

/** What a row's buttons do; the dashboard wires them to the blocked-hosts panel and the helper. */
export interface RowActions {
  isBlocked(address: string): boolean;
  toggleBlock(address: string): Promise<void>;
  /** Trust the host: on the ignore list for good, its blocks lifted (with Undo). */
  ignore(address: string): Promise<void>;
  /** Trust the host for a while (a timed ignore entry the helper removes itself). */
  allow(address: string, seconds: number): Promise<void>;
  copy(address: string): Promise<void>;
  openScanner(address: string): void;
}

const PAGE = 200;
/** Events kept in memory; older ones drop off the bottom (they stay in the helper's store). */
const MAX_EVENTS = 5000;

export class EventsView {
  private events: ScanEvent[] = [];
  private readonly ids = new Set<number>();
  private filter: EventFilter = {};
  private search = '';
  private nextCursor: number | null = null;
  /**
   * Only events newer than this many ms (the time-range picker); null = everything stored.
   * A day by default: the statistics over a big store's whole history take a while.
   */
  private rangeMs: number | null = 86_400_000;
  private loadGeneration = 0;
  private readonly rangeListeners = new Set<(since: number | undefined) => void>();
  private readonly renderListeners = new Set<() => void>();
  private announceTimer: number | null = null;
  private pendingAnnouncements: ScanEvent[] = [];
  private readonly body = byId<HTMLTableSectionElement>('events-body');
  private readonly status = byId('events-status');
  private readonly grid = new GridNavigation(this.body, 'data-id', () => byId('events-heading'));

  constructor(
    private readonly api: PortSentryApi,
    private readonly actions: RowActions,
  ) {
    const form = byId<HTMLFormElement>('filters');
    let debounce: number | undefined;
    form.addEventListener('input', (event) => {
      window.clearTimeout(debounce);
      const target = event.target as HTMLElement;
      if (target.id === 'filter-search') {
        this.search = (target as HTMLInputElement).value;
        debounce = window.setTimeout(() => this.render(), 150);
      } else {
        debounce = window.setTimeout(() => void this.applyFilter(), 300);
      }
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.applyFilter();
    });
    byId('filters-clear').addEventListener('click', () => {
      form.reset();
      this.search = '';
      void this.applyFilter();
    });
    byId('load-older').addEventListener('click', () => void this.loadOlder());
    byId('export-csv').addEventListener('click', () => download('portsentry-events.csv', 'text/csv', toCsv(this.visible())));
    byId('export-json').addEventListener('click', () => download('portsentry-events.json', 'application/json', toJson(this.visible())));
  }

  /** The start of the chosen range, for the helper's since (undefined = everything stored). */
  since(now = Date.now()): number | undefined {
    return this.rangeMs === null ? undefined : Math.max(0, now - this.rangeMs);
  }

  /** Told when the time range changes (the statistics follow it). */
  onRangeChange(listener: (since: number | undefined) => void): void {
    this.rangeListeners.add(listener);
  }

  /** Told after the list was redrawn for a new search, filter or page (the scanner list follows the search). */
  onRender(listener: () => void): void {
    this.renderListeners.add(listener);
  }

  /** The search text typed (the scanner list applies it too). */
  searchText(): string {
    return this.search;
  }

  /** The newest loaded probe of a source: the helper's latest word on it. */
  latestFor(address: string): ScanEvent | null {
    return this.events.find((e) => e.source === address) ?? null;
  }

  /** The reverse name the helper resolved for a source, if any probe of it carries one. */
  nameFor(address: string): string | null {
    return this.events.find((e) => e.source === address && (e.resolvedName ?? '') !== '')?.resolvedName ?? null;
  }

  /** Block state changed: relabel the Block/Unblock buttons without redrawing the list. */
  refreshBlockButtons(): void {
    for (const button of this.body.querySelectorAll<HTMLButtonElement>('button[data-act="toggle"]')) {
      const address = button.dataset['address'] ?? '';
      const blocked = this.actions.isBlocked(address);
      button.textContent = blocked ? 'Unblock' : 'Block';
      button.setAttribute('aria-label', `${blocked ? 'Unblock' : 'Block'} ${address}`);
    }
  }

  /** (Re)loads the newest page for the current filter. */
  async reload(): Promise<void> {
    const generation = ++this.loadGeneration;
    this.status.textContent = 'Loading events…';
    try {
      const since = this.since();
      const page = await this.api.listEvents({ ...listParams(this.filter, PAGE), ...(since === undefined ? {} : { since }) });
      if (generation !== this.loadGeneration) return; // a newer filter won
      const live = this.events.filter((e) => !page.events.some((p) => p.id === e.id) && e.id > (page.events[0]?.id ?? 0));
      this.events = [...live, ...scanEvents(page.events)].sort((a, b) => b.id - a.id);
      this.ids.clear();
      for (const e of this.events) this.ids.add(e.id);
      this.nextCursor = page.nextCursor;
      this.status.textContent = '';
      this.render();
    } catch (error) {
      if (generation === this.loadGeneration) this.status.textContent = describeError(error, 'load the events');
    }
  }

  /** A new event from the helper: shown at the top if the filter keeps it, announced politely. */
  add(event: StoredEvent): void {
    if (event.type !== 'scan' || this.ids.has(event.id) || !matchesFilter(event, this.filter)) return;
    this.ids.add(event.id);
    this.events.unshift(event);
    if (this.events.length > MAX_EVENTS) for (const dropped of this.events.splice(MAX_EVENTS)) this.ids.delete(dropped.id);
    if (matchesSearch(event, this.search)) {
      const hadTabStop = this.body.querySelector('[tabindex="0"]') !== null;
      const row = this.row(event);
      this.body.prepend(row);
      if (!hadTabStop) this.grid.setStop(row);
      while (this.body.rows.length > MAX_EVENTS) this.body.lastElementChild?.remove();
      this.updateCount();
      this.announce(event);
    }
  }

  /** Shows one event (a notification was clicked): clears what hides it, then focuses its row. */
  async focusEvent(id: number): Promise<void> {
    if (!this.ids.has(id) || this.body.querySelector(`tr[data-id="${id}"]`) === null) {
      const form = byId<HTMLFormElement>('filters');
      form.reset();
      this.search = '';
      this.filter = {};
      await this.reload();
      if (!this.ids.has(id)) {
        try {
          const page = await this.api.listEvents({ before: id + 1, limit: 1 });
          const found = page.events.find((e) => e.id === id);
          if (found?.type === 'scan') {
            this.ids.add(found.id);
            this.events = [...this.events, found].sort((a, b) => b.id - a.id);
            this.render();
          }
        } catch (error) {
          this.status.textContent = describeError(error, 'find that event');
        }
      }
    }
    const row = this.body.querySelector<HTMLTableRowElement>(`tr[data-id="${id}"]`);
    if (row === null) {
      this.status.textContent = 'That event is no longer in the list (it may have been deleted).';
      return;
    }
    byId<HTMLDetailsElement>('probes-section').open = true; // the probe list is folded by default
    for (const other of this.body.querySelectorAll('tr.focused-event')) other.classList.remove('focused-event');
    row.classList.add('focused-event');
    this.grid.setStop(row);
    row.scrollIntoView({ block: 'center' });
    row.focus();
  }

  private async applyFilter(): Promise<void> {
    const form = byId<HTMLFormElement>('filters');
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;
    this.search = value('search');
    const range = value('range');
    const rangeMs = range === '' ? null : Number(range);
    const rangeChanged = rangeMs !== this.rangeMs;
    this.rangeMs = rangeMs !== null && Number.isFinite(rangeMs) && rangeMs > 0 ? rangeMs : null;
    if (rangeChanged) for (const listener of this.rangeListeners) listener(this.since());
    const { filter, errors } = parseFilter({ host: value('host'), port: value('port'), kind: value('kind'), protocol: value('protocol'), action: value('action') });
    showFieldError(byId('filter-host'), byId('filter-host-error'), errors.host ?? null);
    showFieldError(byId('filter-port'), byId('filter-port-error'), errors.port ?? null);
    if (errors.host !== undefined || errors.port !== undefined) return;
    if (!rangeChanged && JSON.stringify(filter) === JSON.stringify(this.filter)) {
      this.render();
      return;
    }
    this.filter = filter;
    this.events = [];
    this.ids.clear();
    await this.reload();
  }

  private async loadOlder(): Promise<void> {
    if (this.nextCursor === null) return;
    try {
      const since = this.since();
      const page = await this.api.listEvents({ ...listParams(this.filter, PAGE, this.nextCursor), ...(since === undefined ? {} : { since }) });
      for (const event of scanEvents(page.events)) {
        if (this.ids.has(event.id)) continue;
        this.ids.add(event.id);
        this.events.push(event);
      }
      this.nextCursor = page.nextCursor;
      this.render();
    } catch (error) {
      this.status.textContent = describeError(error, 'load older events');
    }
  }

  private visible(): ScanEvent[] {
    return this.events.filter((e) => matchesSearch(e, this.search));
  }

  private render(): void {
    const visible = this.visible();
    this.grid.replaceRows(visible.map((event) => this.row(event)));
    byId<HTMLButtonElement>('load-older').hidden = this.nextCursor === null;
    this.updateCount();
    for (const listener of this.renderListeners) listener();
  }

  private updateCount(): void {
    const shown = this.body.rows.length;
    byId('events-count').textContent = shown === 1 ? '1 probe shown' : `${shown} probes shown`;
    byId('events-empty').hidden = shown !== 0;
  }

  private row(event: ScanEvent): HTMLTableRowElement {
    const address = event.source;
    const button = (act: string, label: string, aria: string, run: () => void) => {
      const element = h('button', { type: 'button', class: `row-action act-${act}`, 'data-act': act, 'data-address': address, 'aria-label': aria, tabindex: -1 }, label);
      element.addEventListener('click', run);
      return element;
    };
    const blocked = this.actions.isBlocked(address);
    const host = h('button', { type: 'button', class: 'host-link mono', 'data-act': 'scanner', tabindex: -1, 'aria-label': `${address}: open the scanner view` }, address);
    host.addEventListener('click', () => this.actions.openScanner(address));
    return h(
      'tr',
      { 'data-id': event.id, tabindex: -1, class: `action-${event.action}` },
      h('td', {}, h('time', { datetime: new Date(event.at).toISOString() }, formatTime(event.at))),
      h('td', {}, host),
      h('td', {}, event.resolvedName ?? ''),
      h('td', { class: 'num' }, String(event.port)),
      h('td', {}, event.protocol.toUpperCase()),
      h('td', {}, KIND_LABELS[event.kind]),
      // What the helper did with this probe, and for every probe that did not block, why (its words).
      h(
        'td',
        { class: 'action-cell' },
        h('span', { class: 'badge', title: event.reason ?? '' }, ACTION_LABELS[event.action]),
        event.action === 'blocked' || event.action === 'already-blocked' ? null : h('span', { class: 'why truncate', title: notBlockedReason(event) }, notBlockedReason(event)),
      ),
      h(
        'td',
        { class: 'row-actions' },
        h(
          'span',
          { class: 'row-actions-group' },
          button('toggle', blocked ? 'Unblock' : 'Block', `${blocked ? 'Unblock' : 'Block'} ${address}`, () => void this.actions.toggleBlock(address)),
          button('ignore', 'Ignore', `Ignore ${address} from now on`, () => void this.actions.ignore(address)),
          button('copy', 'Copy', `Copy ${address}`, () => void this.actions.copy(address)),
        ),
      ),
    );
  }

  private announce(event: ScanEvent): void {
    this.pendingAnnouncements.push(event);
    if (this.announceTimer !== null) return;
    // At most one announcement a second: a flood must not drown a screen reader.
    this.announceTimer = window.setTimeout(() => {
      this.announceTimer = null;
      const batch = this.pendingAnnouncements;
      this.pendingAnnouncements = [];
      const latest = batch[batch.length - 1];
      if (latest === undefined) return;
      const what = `${latest.source} on ${latest.protocol.toUpperCase()} port ${latest.port}, ${ACTION_LABELS[latest.action].toLowerCase()}`;
      byId('live-announcer').textContent = batch.length === 1 ? `New scan from ${what}.` : `${batch.length} new scans; latest from ${what}.`;
    }, 1000);
  }
}

function scanEvents(events: readonly StoredEvent[]): ScanEvent[] {
  return events.filter((e): e is ScanEvent => e.type === 'scan');
}

/** Saves text as a file through a Blob URL (no server, nothing leaves the machine). */
function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
