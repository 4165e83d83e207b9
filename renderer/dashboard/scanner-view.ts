// The per-scanner view: everything the helper's store knows about one source over the chosen
// range (first and last seen, probes, scan kinds, every port it touched), from the `stats`
// method filtered to that host, in a modal dialog with the same actions as an event row.

import type { PortSentryApi } from '../../shared/desktop-api.js';
import { describeError } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { KIND_LABELS, formatTime } from '../lib/format.js';
import type { BlockEntry } from '../../shared/protocol/schemas.js';
import { portRanges, scannerState } from './block-model.js';
import type { ScanEvent } from './event-model.js';
import type { RowActions } from './events-view.js';

export class ScannerView {
  private readonly dialog = byId<HTMLDialogElement>('scanner-view');
  private address: string | null = null;
  private opener: HTMLElement | null = null;
  /** The helper's latest word on this source (its reason when it did not block). */
  private latest: ScanEvent | null = null;

  constructor(
    private readonly api: PortSentryApi,
    private readonly actions: Omit<RowActions, 'openScanner'>,
    private readonly since: () => number | undefined,
    private readonly blocks: () => readonly BlockEntry[],
  ) {
    byId('scanner-close').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => this.opener?.focus());
    byId('scanner-toggle-block').addEventListener('click', () => void this.run(async (address) => this.actions.toggleBlock(address)));
    byId('scanner-ignore').addEventListener('click', () => void this.run(async (address) => this.actions.ignore(address)));
    byId('scanner-allow-hour').addEventListener('click', () => void this.run(async (address) => this.actions.allow(address, 3600)));
    byId('scanner-allow-day').addEventListener('click', () => void this.run(async (address) => this.actions.allow(address, 86_400)));
    byId('scanner-copy').addEventListener('click', () => void this.run(async (address) => this.actions.copy(address)));
  }

  async open(address: string): Promise<void> {
    this.address = address;
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    byId('scanner-heading').textContent = `Scanner ${address}`;
    byId('scanner-status').textContent = 'Loading…';
    for (const id of ['scanner-first', 'scanner-last', 'scanner-total', 'scanner-kinds', 'scanner-port-count', 'scanner-ports']) byId(id).textContent = '';
    this.latest = null;
    this.relabel();
    if (!this.dialog.open) this.dialog.showModal();
    void this.loadLatest(address);
    const since = this.since();
    byId('scanner-range').textContent = since === undefined ? 'Everything stored' : `Since ${formatTime(since)}`;
    try {
      const stats = await this.api.stats({ host: address, buckets: 1, ...(since === undefined ? {} : { since }) });
      if (this.address !== address) return;
      byId('scanner-first').textContent = stats.firstSeen === null ? 'not in this range' : formatTime(stats.firstSeen);
      byId('scanner-last').textContent = stats.lastSeen === null ? 'not in this range' : formatTime(stats.lastSeen);
      byId('scanner-total').textContent = String(stats.total);
      byId('scanner-kinds').textContent = stats.kinds.map((k) => `${KIND_LABELS[k.kind]} (${k.count})`).join(', ') || 'none';
      const protocols = ['tcp', 'udp'] as const;
      const lines = protocols
        .map((protocol) => ({ protocol, ports: stats.ports.filter((p) => p.protocol === protocol).map((p) => p.port) }))
        .filter((line) => line.ports.length > 0)
        .map((line) => `${line.protocol.toUpperCase()}: ${portRanges(line.ports)}`);
      byId('scanner-port-count').textContent =
        stats.distinctPorts > stats.ports.length
          ? `${stats.distinctPorts} ports; the lowest ${stats.ports.length} are listed`
          : `${stats.distinctPorts} ${stats.distinctPorts === 1 ? 'port' : 'ports'}`;
      byId('scanner-ports').textContent = lines.join('\n');
      byId('scanner-status').textContent = '';
    } catch (error) {
      byId('scanner-status').textContent = describeError(error, `load what ${address} did`);
    }
  }

  /** Block state changed somewhere: keep the dialog's state line and button right. */
  relabel(): void {
    if (this.address === null) return;
    const state = scannerState(this.address, this.blocks(), this.latest);
    byId('scanner-state').textContent = state.text;
    byId('scanner-toggle-block').textContent = state.blocked ? 'Unblock this host' : 'Block this host';
  }

  /** The newest probe the helper stored for the source: what it did, and why not a block. */
  private async loadLatest(address: string): Promise<void> {
    try {
      const page = await this.api.listEvents({ host: address, limit: 1 });
      const latest = page.events.find((e): e is ScanEvent => e.type === 'scan') ?? null;
      if (this.address !== address) return;
      this.latest = latest;
      this.relabel();
    } catch {
      /* the stats call below reports an unreachable helper */
    }
  }

  private async run(action: (address: string) => Promise<void>): Promise<void> {
    if (this.address === null) return;
    await action(this.address);
    this.relabel();
  }
}
