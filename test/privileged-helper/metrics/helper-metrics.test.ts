// The metrics page: what it costs the helper however many clients ask, and the set
// capacity it reports against. It is loaded only when the endpoint is on (prom-client costs
// the idle helper memory and a 10 ms event-loop timer), and still counts from the helper's
// start: the counts live in a MetricsTally the page reads when it is made later.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HelperMetrics, MIN_RENDER_INTERVAL_MS, RunningTotal, type MetricsSnapshot } from '../../../privileged-helper/metrics/helper-metrics.js';
import { MetricsTally } from '../../../privileged-helper/metrics/metrics-tally.js';
import type { Probe } from '../../../shared/domain/types.js';

const run = promisify(execFile);

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

  it('counts scans (one record per scan), not probes', async () => {
    const page = await new HelperMetrics(() => snapshotOf([], 1024, { scansStarted: 7 })).registry.metrics();
    assert.match(page, /^# TYPE portsentry_scans_total counter$/m);
    assert.match(page, /^portsentry_scans_total 7$/m);
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

/** Every series of the page: name, type and label sets, from the registry's own account. */
async function seriesOf(metrics: HelperMetrics) {
  const all = await metrics.registry.getMetricsAsJSON();
  return new Map(all.map((m) => [m.name, { type: String(m.type), labels: m.values.map((v) => v.labels as Record<string, string>) }]));
}

describe('metrics by Prometheus conventions', () => {
  it('names every counter _total and no gauge so, and counts since start only in counters', async () => {
    const page = await new HelperMetrics(() => snapshotOf([], 1024)).registry.metrics();
    const types = [...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }));
    assert.ok(types.length > 20, page);
    for (const { name, type } of types) {
      if (type === 'counter') assert.match(name, /_total$/, `${name} is a counter`);
      if (type === 'gauge') assert.doesNotMatch(name, /_total$/, `${name} is a gauge`);
    }
    const typeOf = new Map(types.map((t) => [t.name, t.type]));
    for (const name of ['capture_frames', 'capture_undecoded_frames', 'fleet_alerts_sent', 'fleet_alerts_dropped', 'fleet_decisions_refused', 'firewall_repairs']) {
      assert.equal(typeOf.get(`portsentry_${name}_total`), 'counter', name);
      assert.equal(typeOf.get(`portsentry_${name}`), undefined, `no gauge ${name}`);
    }
  });

  it('has every labelled series whose labels are known at 0 before the first event', async () => {
    const page = await new HelperMetrics(() => snapshotOf([], 1024)).registry.metrics();
    for (const series of [
      'portsentry_probes_total{kind="syn",mode="stcp"} 0',
      'portsentry_probes_total{kind="connect",mode="tcp"} 0',
      'portsentry_probes_total{kind="udp",mode="audp"} 0',
      'portsentry_blocks_added_total{origin="fleet"} 0',
      'portsentry_blocks_removed_total{reason="expired"} 0',
      'portsentry_fleet_decisions_refused_total{reason="protected-address"} 0',
      'portsentry_fleet_decisions_refused_total{reason="lapi-address"} 0',
      'portsentry_capture_frames_total 0',
      'portsentry_fleet_alerts_sent_total 0',
    ]) {
      assert.ok(page.split('\n').includes(series), series);
    }
    assert.doesNotMatch(page, /kind="udp",mode="stcp"/, 'no series a mode cannot report');
  });

  it('says which build runs, and carries the process and Node.js metrics under their standard names', async () => {
    const page = await new HelperMetrics(() => snapshotOf([], 1024)).registry.metrics();
    const { version } = JSON.parse(await readFile(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.ok(page.split('\n').includes(`portsentry_build_info{version="${version}",classic="1.2",node="${process.version}"} 1`), page);
    assert.match(page, /^# TYPE process_cpu_seconds_total counter$/m);
    assert.match(page, /^process_resident_memory_bytes \d+/m);
    assert.match(page, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
  });

  it('never lets the capture count go back when the capture is restarted (new modes)', async () => {
    let frames = 500;
    let now = 0;
    const metrics = new HelperMetrics(
      () => snapshotOf([], 1024, { captureFrames: frames }),
      () => now,
    );
    const value = async () => {
      now += MIN_RENDER_INTERVAL_MS;
      return Number(/^portsentry_capture_frames_total (\d+)$/m.exec(await metrics.registry.metrics())?.[1]);
    };
    assert.equal(await value(), 500);
    frames = 700;
    assert.equal(await value(), 700);
    frames = 30; // a new capture, counting from 0
    assert.equal(await value(), 730);
    frames = 40;
    assert.equal(await value(), 740);
    const total = new RunningTotal();
    assert.deepEqual(
      [5, 0, 0, 3].map((n) => total.read(n)),
      [5, 5, 5, 8],
    );
  });
});

describe('the README metrics table', () => {
  it('lists exactly the portsentry metrics the registry has, with their types, labels and known label values', async () => {
    const readme = await readFile(new URL('../../../../README.md', import.meta.url), 'utf8');
    const table = readme.split('<!-- metrics table: names and types checked by a test -->')[1]!.split('\n\n')[0]!;
    const rows = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const listed = new Map(rows.map(([, name, type, labels]) => [name!.replace(/`/g, ''), { type: type!, labels: labels! }]));
    // A fleet and a firewall, so the series that exist only with them are there too.
    const fleet = { sharing: true, pushing: true, pulling: true, connected: true, lastContactAt: 0, lastError: null, queued: 0, sent: 0, dropped: 0, fleetBlocks: 0, refused: 0 };
    const series = await seriesOf(new HelperMetrics(() => snapshotOf([], 1024, { fleet, firewall: { inSync: true, problem: null, repairs: 0 } })));
    const ours = [...series.keys()].filter((name) => name.startsWith('portsentry_'));
    assert.deepEqual([...listed.keys()].sort(), ours.sort(), 'the same names');
    for (const [name, row] of listed) {
      const actual = series.get(name)!;
      assert.equal(row.type, actual.type, `${name}: type`);
      const labelNames = [...row.labels.matchAll(/`(\w+)`(?::([^`|]*?)(?=$|`))?/g)];
      const actualNames = [...new Set(actual.labels.flatMap((l) => Object.keys(l)))].sort();
      assert.deepEqual(labelNames.map((m) => m[1]).sort(), actualNames, `${name}: labels`);
      for (const [, label, values] of labelNames) {
        if (values === undefined || values.trim() === '') continue;
        const expected = values
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '');
        assert.deepEqual(expected.sort(), [...new Set(actual.labels.map((l) => l[label!]!))].sort(), `${name}: values of ${label}`);
      }
    }
  });
});

describe('metrics tally', () => {
  it('shows on a page made later what was counted before it existed', async () => {
    const tally = new MetricsTally();
    const probe = { kind: 'syn', mode: 'stcp' } as Probe;
    tally.observeProbe(probe);
    tally.observeProbe(probe);
    tally.observeEvent({ type: 'block', change: 'added', at: 1, address: '198.18.0.1', reason: 'SYN probe of TCP port 555', until: null });
    tally.observeEvent({ type: 'block', change: 'removed', at: 2, address: '198.18.0.1', reason: 'unblocked by hand', until: null });
    const metrics = new HelperMetrics(() => snapshotOf([], 1024), Date.now, tally);
    metrics.observeProbe(probe);
    const page = await metrics.registry.metrics();
    assert.match(page, /^portsentry_probes_total\{kind="syn",mode="stcp"\} 3$/m);
    assert.match(page, /^portsentry_probes_total\{kind="connect",mode="tcp"\} 0$/m);
    assert.match(page, /^portsentry_blocks_added_total\{origin="detection"\} 1$/m);
    assert.match(page, /^portsentry_blocks_removed_total\{reason="hand"\} 1$/m);
    assert.match(page, /^portsentry_blocks_failed_total 0$/m);
  });

  it("is all the helper's start path loads: prom-client is not imported while METRICS is off", async () => {
    // A child Node records every module loaded by the helper's start-up modules.
    const runDaemon = fileURLToPath(new URL('../../../privileged-helper/bin/run-daemon.js', import.meta.url));
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      await import(${JSON.stringify(runDaemon)});
      process.stdout.write(JSON.stringify(loaded));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    const loaded = JSON.parse(stdout) as string[];
    assert.ok(
      loaded.some((url) => url.endsWith('/daemon/daemon.js')),
      'the hook saw the helper load',
    );
    assert.deepEqual(
      loaded.filter((url) => /node_modules\/prom-client\/|\/metrics\/helper-metrics\.js$/.test(url)),
      [],
    );
  });
});
