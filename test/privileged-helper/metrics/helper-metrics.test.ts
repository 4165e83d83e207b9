// The metrics page: what it costs the helper however many clients ask, and the set
// capacity it reports against.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HelperMetrics, MIN_RENDER_INTERVAL_MS, type MetricsSnapshot } from '../../../privileged-helper/metrics/helper-metrics.js';

function snapshotOf(blockedAddresses: readonly string[], setCapacity: number, more: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return {
    blockedAddresses,
    setCapacity,
    captureFrames: 0,
    captureUndecoded: 0,
    rpcConnections: 0,
    storeBytes: 0,
    storeEvents: 0,
    fleet: null,
    fleetRefused: new Map(),
    firewall: null,
    protecting: true,
    ...more,
  };
}

describe('helper metrics', () => {
  it('renders the page once for any number of scrapes at once, and at most once per interval', async () => {
    let now = 1_000_000;
    let snapshots = 0;
    const metrics = new HelperMetrics(
      () => {
        snapshots += 1;
        return snapshotOf(['198.18.0.1'], 1024);
      },
      () => now,
    );
    // A client hammering the endpoint on many connections: one walk of the blocked list.
    const pages = await Promise.all(Array.from({ length: 64 }, () => metrics.registry.metrics()));
    assert.equal(snapshots, 1);
    assert.equal(new Set(pages).size, 1);
    for (let i = 0; i < 100; i++) await metrics.registry.metrics();
    assert.equal(snapshots, 1, 'scrapes back to back within the interval reuse the page');
    now += MIN_RENDER_INTERVAL_MS;
    await metrics.registry.metrics();
    assert.equal(snapshots, 2, 'a scrape after the interval sees fresh numbers');
  });

  it('reports the share of the set in use against BLOCK_SET_SIZE', async () => {
    const held = Array.from({ length: 256 }, (_, i) => `198.18.1.${i}`).concat(['fd00::1']);
    const page = await new HelperMetrics(() => snapshotOf(held, 1024)).registry.metrics();
    assert.match(page, /^portsentry_block_set_used_ratio\{family="ipv4"\} 0\.25$/m);
    assert.match(page, /^portsentry_block_set_used_ratio\{family="ipv6"\} 0\.0009765625$/m);
  });

  it("says whether the firewall holds the helper's blocks, how often it was restored, and whether the helper protects at all", async () => {
    const degraded = await new HelperMetrics(() => snapshotOf([], 1024, { firewall: { inSync: false, problem: 'the table is gone', repairs: 3 }, protecting: false })).registry.metrics();
    assert.match(degraded, /^portsentry_firewall_in_sync 0$/m);
    assert.match(degraded, /^portsentry_firewall_repairs_total 3$/m);
    assert.match(degraded, /^# TYPE portsentry_firewall_repairs_total counter$/m);
    assert.match(degraded, /^portsentry_protecting 0$/m);
    const none = await new HelperMetrics(() => snapshotOf([], 1024)).registry.metrics();
    assert.match(none, /^portsentry_firewall_in_sync 1$/m, 'without a firewall nothing can be out of sync');
    assert.match(none, /^portsentry_protecting 1$/m);
  });
});
