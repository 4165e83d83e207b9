// The scanner list: one row per scanner over the chosen time range (folded from the helper's
// scan records, scans.list), its actions first (block or unblock, ignore, allow for a while,
// copy), who it is (address, reverse name, network owner and country), when it came, what it
// touched, and its state with the reason (from blocks.list and ignore.list, the one truth);
// a row expands to its probes (events.list for that source). One tab stop: arrow keys move
// between rows and along a row's controls (lib/grid-nav.ts).

import type { PortSentryApi } from '../../shared/desktop-api.js';
import type { BlockEntry, IgnoreListEntry } from '../../shared/protocol/schemas.js';
import type { ScanRecord } from '../../shared/domain/scan-record.js';
import { describeError } from '../lib/api.js';
import { byId, h } from '../lib/dom.js';
import { ACTION_LABELS, KIND_LABELS, formatTime } from '../lib/format.js';
import { GridNavigation } from '../lib/grid-nav.js';
import { notBlockedReason } from './block-model.js';
import type { ScanEvent } from './event-model.js';
import type { RowActions } from './events-view.js';
import { foldScanners, kindsText, portsShort, portsText, scannerMatches, scannerRowState, shortTime, type Scanner } from './scanner-model.js';

/** Scan records asked for (the helper's page limit): the newest, enough for a busy day. */
const RECORDS = 1000;
/** Probes listed when a row is expanded; the probe list below has them all. */
const PROBES_SHOWN = 50;

/** What the list reads from the rest of the dashboard. */
export interface ScannerSources {
  readonly since: () => number | undefined;
  readonly search: () => string;
  readonly blocks: () => readonly BlockEntry[];
  /** The newest loaded probe of a source (the helper's word on it), and its reverse name. */
  readonly latest: (address: string) => ScanEvent | null;
  readonly name: (address: string) => string | null;
  /** Who owns the network and where (main's offline lookup); null until known. */
  readonly owner: (address: string) => string | null;
}

export class ScannersView {
  private records: ScanRecord[] = [];
  private ignored: IgnoreListEntry[] = [];
  private readonly expanded = new Map<string, ScanEvent[] | null>();
  private reloadTimer: number | null = null;
  private generation = 0;
  private readonly body = byId<HTMLTableSectionElement>('scanners-body');
  private readonly grid = new GridNavigation(this.body, 'data-address', () => byId('events-heading'));
  private readonly listeners = new Set<(addresses: readonly string[]) => void>();

  constructor(
    private readonly api: PortSentryApi,
    private readonly actions: RowActions,
    private readonly sources: ScannerSources,
  ) {}

  /** Told the addresses shown after each load (the network-owner lookup follows them). */
  onShown(listener: (addresses: readonly string[]) => void): void {
    this.listeners.add(listener);
  }

  /** Loads the scan records and the ignore list afresh, then redraws. */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    try {
      const [scans, ignored] = await Promise.all([this.api.listScans({ limit: RECORDS }), this.api.listIgnored()]);
      if (generation !== this.generation) return;
      this.records = scans.scans;
      this.ignored = ignored.entries;
      this.render();
    } catch (error) {
      if (generation === this.generation) byId('scanners-status').textContent = describeError(error, 'load the scanners');
    }
  }

  /** A probe arrived: reload once things settle (a flood is one reload, not thousands). */
  scheduleReload(): void {
    if (this.reloadTimer !== null) return;
    this.reloadTimer = window.setTimeout(() => {
      this.reloadTimer = null;
      void this.reload();
    }, 400);
  }

  /** The scanners the range and the search keep, newest first. */
  shown(): Scanner[] {
    const search = this.sources.search();
    return foldScanners(this.records, this.sources.since()).filter((s) => search.trim() === '' || scannerMatches(this.rowText(s), search));
  }

  render(): void {
    byId('scanners-status').textContent = '';
    const scanners = this.shown();
    const rows: HTMLTableRowElement[] = [];
    for (const scanner of scanners) {
      rows.push(this.row(scanner));
      if (this.expanded.has(scanner.address)) rows.push(this.probesRow(scanner.address));
    }
    this.grid.replaceRows(rows);
    byId('scanners-count').textContent = scanners.length === 1 ? '1 scanner' : `${scanners.length} scanners`;
    byId('scanners-empty').hidden = scanners.length !== 0;
    const addresses = scanners.map((s) => s.address);
    for (const listener of this.listeners) listener(addresses);
  }

  private rowText(scanner: Scanner): string[] {
    const state = scannerRowState(scanner, this.sources.blocks(), this.ignored, this.sources.latest(scanner.address));
    return [scanner.address, this.sources.name(scanner.address) ?? '', this.sources.owner(scanner.address) ?? '', portsText(scanner), kindsText(scanner.kinds).full, state.label, state.why];
  }

  private row(scanner: Scanner): HTMLTableRowElement {
    const address = scanner.address;
    const state = scannerRowState(scanner, this.sources.blocks(), this.ignored, this.sources.latest(address));
    const button = (act: string, label: string, aria: string, run: () => void, extra: Record<string, string> = {}) => {
      const element = h('button', { type: 'button', class: `row-action act-${act}`, 'data-act': act, 'data-address': address, 'aria-label': aria, tabindex: -1, ...extra }, label);
      element.addEventListener('click', run);
      return element;
    };
    const open = this.expanded.has(address);
    const host = h('button', { type: 'button', class: 'host-link mono', 'data-act': 'scanner', tabindex: -1, 'aria-label': `${address}: open the scanner view` }, address);
    host.addEventListener('click', () => this.actions.openScanner(address));
    const name = this.sources.name(address);
    const owner = this.sources.owner(address);
    const ports = portsText(scanner);
    const kinds = kindsText(scanner.kinds);
    const now = Date.now();
    const seen = `${shortTime(scanner.firstSeen, now)} – ${shortTime(scanner.lastSeen, now)}`;
    return h(
      'tr',
      { 'data-address': address, tabindex: -1, class: `scanner-row state-${state.kind}` },
      h(
        'td',
        { class: 'row-actions' },
        h(
          'span',
          { class: 'row-actions-group' },
          button('expand', open ? '▾ Probes' : '▸ Probes', `${open ? 'Hide' : 'Show'} the probes of ${address}`, () => this.toggleExpand(address), { 'aria-expanded': String(open) }),
          button('toggle', state.blocked ? 'Unblock' : 'Block', `${state.blocked ? 'Unblock' : 'Block'} ${address}`, () => void this.actions.toggleBlock(address)),
          button('ignore', 'Ignore', `Ignore ${address} from now on`, () => void this.actions.ignore(address)),
          button('allow', 'Allow…', `Allow ${address} for a while`, () => this.actions.openScanner(address)),
          button('copy', 'Copy', `Copy ${address}`, () => void this.actions.copy(address)),
        ),
      ),
      h(
        'td',
        { class: 'who' },
        host,
        h('span', { class: 'line name truncate', title: name ?? 'no reverse name' }, name ?? '—'),
        h('span', { class: 'line owner truncate', title: owner ?? 'network owner not known' }, owner ?? '—'),
      ),
      h(
        'td',
        { class: 'activity' },
        h('span', { class: 'line truncate', title: `first seen ${formatTime(scanner.firstSeen)}, last seen ${formatTime(scanner.lastSeen)}` }, seen),
        h('span', { class: 'line ports truncate mono', title: ports }, portsShort(scanner)),
        h(
          'span',
          { class: 'line kinds truncate', title: `${kinds.full}; ${scanner.probes} probes in ${scanner.scans} ${scanner.scans === 1 ? 'scan' : 'scans'}` },
          `${kinds.short} · ${scanner.probes} probes`,
        ),
      ),
      h('td', { class: 'state' }, h('span', { class: 'badge' }, state.label), h('span', { class: 'line why', title: state.why }, state.why)),
    );
  }

  private probesRow(address: string): HTMLTableRowElement {
    const probes = this.expanded.get(address) ?? null;
    const content =
      probes === null
        ? h('p', { class: 'meta' }, 'Loading probes…')
        : probes.length === 0
          ? h('p', { class: 'meta' }, 'No probe of this scanner in the range.')
          : h(
              'ul',
              { class: 'probe-list' },
              ...probes.map((p) =>
                h(
                  'li',
                  { class: `action-${p.action}` },
                  h('time', { datetime: new Date(p.at).toISOString() }, formatTime(p.at).slice(11)),
                  ` ${p.protocol.toUpperCase()} ${p.port} · ${KIND_LABELS[p.kind]} · `,
                  h('span', { class: 'badge' }, ACTION_LABELS[p.action]),
                  p.action === 'blocked' || p.action === 'already-blocked' ? '' : ` ${notBlockedReason(p)}`,
                ),
              ),
            );
    return h('tr', { 'data-address': `${address} probes`, tabindex: -1, class: 'probes-row', 'aria-label': `Probes of ${address}` }, h('td', { colspan: 4 }, content));
  }

  private toggleExpand(address: string): void {
    if (this.expanded.has(address)) {
      this.expanded.delete(address);
      this.render();
      return;
    }
    this.expanded.set(address, null);
    this.render();
    void this.loadProbes(address);
  }

  private async loadProbes(address: string): Promise<void> {
    try {
      const since = this.sources.since();
      const page = await this.api.listEvents({ host: address, limit: PROBES_SHOWN, ...(since === undefined ? {} : { since }) });
      if (!this.expanded.has(address)) return;
      this.expanded.set(
        address,
        page.events.filter((e): e is ScanEvent => e.type === 'scan'),
      );
      this.render();
    } catch (error) {
      byId('scanners-status').textContent = describeError(error, `load the probes of ${address}`);
    }
  }
}
