// Three small charts drawn as SVG with DOM calls: no chart library to ship, colours from
// the theme's CSS variables, and a text summary (aria-label) for screen readers. The data
// comes from the helper's `stats` (whole store, chosen range), not from the list's page.

import { svg } from '../lib/dom.js';
import { formatTime } from '../lib/format.js';
import type { Count, TimeBucket } from './event-model.js';

/** Minutes, hours or days, whichever reads best for a step. */
function stepText(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}

const WIDTH = 320;
const BAR_HEIGHT = 18;
const GAP = 6;

/** Horizontal bars, one per label, longest first. */
export function renderTopChart(container: Element, title: string, counts: readonly Count[]): void {
  const max = Math.max(1, ...counts.map((c) => c.count));
  const height = Math.max(1, counts.length) * (BAR_HEIGHT + GAP);
  const summary = counts.length === 0 ? `${title}: no scans shown` : `${title}: ${counts.map((c) => `${c.label} ${c.count}`).join(', ')}`;
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': summary, class: 'chart' });
  if (counts.length === 0) chart.append(svg('text', { x: 0, y: 14, class: 'chart-empty' }, 'No scans yet'));
  counts.forEach((c, i) => {
    const y = i * (BAR_HEIGHT + GAP);
    const labelWidth = 130;
    const barSpace = WIDTH - labelWidth - 40;
    chart.append(
      svg('text', { x: 0, y: y + 13, class: 'chart-label' }, c.label.length > 20 ? `${c.label.slice(0, 19)}…` : c.label),
      svg('rect', { x: labelWidth, y, width: Math.max(2, (c.count / max) * barSpace), height: BAR_HEIGHT, rx: 3, class: 'chart-bar' }),
      svg('text', { x: labelWidth + Math.max(2, (c.count / max) * barSpace) + 4, y: y + 13, class: 'chart-value' }, String(c.count)),
    );
  });
  container.replaceChildren(chart);
}

/** Vertical bars, one per time bucket, oldest on the left. */
export function renderTimeChart(container: Element, buckets: readonly TimeBucket[], bucketMs: number, endMs?: number): void {
  const height = 120;
  const plot = height - 20;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((n, b) => n + b.count, 0);
  const step = WIDTH / Math.max(1, buckets.length);
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  const summary =
    first === undefined || last === undefined
      ? 'Scans over time: none'
      : `Scans over time: ${total} from ${formatTime(first.start)} to ${formatTime(last.start + bucketMs)}, busiest step ${max}, steps of ${stepText(bucketMs)}`;
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': summary, class: 'chart' });
  chart.append(svg('line', { x1: 0, y1: plot, x2: WIDTH, y2: plot, class: 'chart-axis' }));
  buckets.forEach((b, i) => {
    if (b.count === 0) return;
    const barHeight = Math.max(2, (b.count / max) * (plot - 14));
    chart.append(
      svg('rect', { x: i * step + 1, y: plot - barHeight, width: Math.max(1, step - 2), height: barHeight, rx: 2, class: 'chart-bar' }, svg('title', {}, `${formatTime(b.start)}: ${b.count}`)),
    );
  });
  if (first !== undefined && last !== undefined) {
    chart.append(
      svg('text', { x: 0, y: height - 4, class: 'chart-label' }, formatTime(first.start).slice(5, 16)),
      svg('text', { x: WIDTH, y: height - 4, class: 'chart-label', 'text-anchor': 'end' }, endMs === undefined || Math.abs(Date.now() - endMs) < 60_000 ? 'now' : formatTime(endMs).slice(5, 16)),
      svg('text', { x: 0, y: 10, class: 'chart-value' }, `max ${max}`),
    );
  }
  container.replaceChildren(chart);
}
