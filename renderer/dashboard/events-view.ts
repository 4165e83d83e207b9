// The live scan list: what was loaded plus what arrives, filtered by the helper query and a
// local search, drawn as a table whose rows share one tab stop (arrow keys move between them).

import type { PortSentryApi } from '../../shared/desktop-api.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { describeError } from '../lib/api.js';
import { byId, h, showFieldError } from '../lib/dom.js';
import { ACTION_LABELS, KIND_LABELS, formatTime } from '../lib/format.js';
import { renderTimeChart, renderTopChart } from './charts.js';
import {
  listParams,
  matchesFilter,
  matchesSearch,
  parseFilter,
  scansOverTime,
  toCsv,
  toJson,
  topCounts,
  type EventFilter,
  type ScanEvent,
} from './event-model.js';

const PAGE = 200;
/** Events kept in memory; older ones drop off the bottom (they stay in the helper's store). */
const MAX_EVENTS = 5000;

export class EventsView {
  private events: ScanEvent[] = [];
  private readonly ids = new Set<number>();
  private filter: EventFilter = {};
  private search = '';
  private nextCursor: number | null = null;
  private loadGeneration = 0;
  private chartTimer: number | null = null;
  private announceTimer: number | null = null;
  private pendingAnnouncements: ScanEvent[] = [];
  private readonly body = byId<HTMLTableSectionElement>('events-body');
  private readonly status = byId('events-status');

  constructor(private readonly api: PortSentryApi) {
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
    this.body.addEventListener('keydown', (event) => this.onRowKey(event));
    this.body.addEventListener('focusin', (event) => {
      const row = (event.target as HTMLElement).closest('tr');
      if (row !== null) this.makeTabStop(row);
    });
  }

  /** (Re)loads the newest page for the current filter. */
  async reload(): Promise<void> {
    const generation = ++this.loadGeneration;
    this.status.textContent = 'Loading events…';
    try {
      const page = await this.api.listEvents(listParams(this.filter, PAGE));
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
      const hadTabStop = this.body.querySelector('tr[tabindex="0"]') !== null;
      this.body.prepend(this.row(event, !hadTabStop));
      while (this.body.rows.length > MAX_EVENTS) this.body.lastElementChild?.remove();
      this.updateCount();
      this.announce(event);
    }
    this.scheduleCharts();
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
    for (const other of this.body.querySelectorAll('tr.focused-event')) other.classList.remove('focused-event');
    row.classList.add('focused-event');
    this.makeTabStop(row);
    row.scrollIntoView({ block: 'center' });
    row.focus();
  }

  private async applyFilter(): Promise<void> {
    const form = byId<HTMLFormElement>('filters');
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;
    this.search = value('search');
    const { filter, errors } = parseFilter({ host: value('host'), port: value('port'), kind: value('kind'), protocol: value('protocol'), action: value('action') });
    showFieldError(byId('filter-host'), byId('filter-host-error'), errors.host ?? null);
    showFieldError(byId('filter-port'), byId('filter-port-error'), errors.port ?? null);
    if (errors.host !== undefined || errors.port !== undefined) return;
    if (JSON.stringify(filter) === JSON.stringify(this.filter)) {
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
      const page = await this.api.listEvents(listParams(this.filter, PAGE, this.nextCursor));
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
    this.body.replaceChildren(...visible.map((event, i) => this.row(event, i === 0)));
    byId<HTMLButtonElement>('load-older').hidden = this.nextCursor === null;
    this.updateCount();
    this.renderCharts();
  }

  private updateCount(): void {
    const shown = this.body.rows.length;
    byId('events-count').textContent = shown === 1 ? '1 scan shown' : `${shown} scans shown`;
    byId('events-empty').hidden = shown !== 0;
  }

  private row(event: ScanEvent, tabStop: boolean): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-id': event.id, tabindex: tabStop ? 0 : -1, class: `action-${event.action}` },
      h('td', {}, h('time', { datetime: new Date(event.at).toISOString() }, formatTime(event.at))),
      h('td', { class: 'mono' }, event.source),
      h('td', {}, event.resolvedName ?? ''),
      h('td', { class: 'num' }, String(event.port)),
      h('td', {}, event.protocol.toUpperCase()),
      h('td', {}, KIND_LABELS[event.kind]),
      h('td', {}, h('span', { class: 'badge', title: event.reason ?? '' }, ACTION_LABELS[event.action])),
    );
  }

  private makeTabStop(row: HTMLTableRowElement): void {
    for (const other of this.body.querySelectorAll('tr[tabindex="0"]')) if (other !== row) other.setAttribute('tabindex', '-1');
    row.setAttribute('tabindex', '0');
  }

  private onRowKey(event: KeyboardEvent): void {
    const row = (event.target as HTMLElement).closest('tr');
    if (row === null) return;
    const rows = [...this.body.rows];
    const index = rows.indexOf(row);
    const target = { ArrowDown: rows[index + 1], ArrowUp: rows[index - 1], Home: rows[0], End: rows[rows.length - 1], PageDown: rows[Math.min(rows.length - 1, index + 10)], PageUp: rows[Math.max(0, index - 10)] }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    this.makeTabStop(target);
    target.focus();
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

  private scheduleCharts(): void {
    if (this.chartTimer !== null) return;
    this.chartTimer = window.setTimeout(() => {
      this.chartTimer = null;
      this.renderCharts();
    }, 1000);
  }

  private renderCharts(): void {
    const visible = this.visible();
    const { size, buckets } = scansOverTime(visible, Date.now());
    renderTimeChart(byId('chart-time'), buckets, size);
    renderTopChart(byId('chart-hosts'), 'Top scanners', topCounts(visible, (e) => e.source, 6));
    renderTopChart(byId('chart-ports'), 'Top ports', topCounts(visible, (e) => `${e.port}/${e.protocol}`, 6));
    byId('charts-basis').textContent = `From the ${visible.length} scans in the list below.`;
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
