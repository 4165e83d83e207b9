// The Activity panel: figures the helper computes over its whole store for the chosen time
// range (the `stats` method), drawn with our SVG charts. Paging or searching the event list
// changes nothing here; a new range or new scans (at most every few seconds) refresh it.

import type { PortSentryApi } from '../../shared/desktop-api.js';
import type { StatsResult } from '../../shared/protocol/schemas.js';
import { describeError } from '../lib/api.js';
import { byId, h } from '../lib/dom.js';
import { KIND_LABELS, formatTime } from '../lib/format.js';
import { renderTimeChart, renderTopChart } from './charts.js';

/** Time steps in the chart: enough to see a scan's shape, few enough to read. */
const BUCKETS = 48;
/** New scans refresh the figures at most this often. */
const REFRESH_MS = 3000;

export class StatsView {
  private timer: number | null = null;
  private generation = 0;
  /** The latest figures (tests and the header read them). */
  latest: StatsResult | null = null;

  /** `since` is asked at every reload: "the last 24 hours" slides with the clock. */
  constructor(
    private readonly api: PortSentryApi,
    private readonly since: () => number | undefined,
  ) {}

  /** Called for each new event; coalesced. */
  scheduleReload(): void {
    if (this.timer !== null) return;
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.reload();
    }, REFRESH_MS);
  }

  async reload(): Promise<void> {
    const generation = ++this.generation;
    const since = this.since();
    try {
      const stats = await this.api.stats({ ...(since === undefined ? {} : { since }), buckets: BUCKETS });
      if (generation !== this.generation) return;
      this.latest = stats;
      this.render(stats, since);
    } catch (error) {
      if (generation === this.generation) byId('charts-basis').textContent = describeError(error, 'compute the statistics');
    }
  }

  private render(stats: StatsResult, since: number | undefined): void {
    const range = since === undefined ? 'everything stored' : `since ${formatTime(stats.since)}`;
    byId('charts-basis').textContent = `All ${stats.total} scans in the helper's store, ${range} (not just the list's page).`;
    const totals = byId('charts-totals');
    const kinds = stats.kinds.map((k) => `${KIND_LABELS[k.kind]} ${k.count}`).join(', ') || 'none';
    totals.replaceChildren(
      h('dt', {}, 'Probes'),
      h('dd', { id: 'stats-total' }, String(stats.total)),
      h('dt', {}, 'Scanners'),
      h('dd', { id: 'stats-sources' }, String(stats.sources)),
      h('dt', {}, 'Ports'),
      h('dd', { id: 'stats-ports' }, String(stats.distinctPorts)),
      h('dt', {}, 'Kinds'),
      h('dd', {}, kinds),
    );
    renderTimeChart(byId('chart-time'), stats.timeline, stats.bucketMs, stats.until);
    renderTopChart(
      byId('chart-hosts'),
      'Top scanners',
      stats.topSources.map((s) => ({ label: s.address, count: s.count })),
    );
    renderTopChart(
      byId('chart-ports'),
      'Top ports',
      stats.topPorts.map((p) => ({ label: `${p.port}/${p.protocol}`, count: p.count })),
    );
  }
}
