// The metrics page is loaded only when the endpoint is on (prom-client costs the idle helper
// memory and a 10 ms event-loop timer), and still counts from the helper's start: the counts
// live in a MetricsTally the page reads when it is made later.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HelperMetrics, type MetricsSnapshot } from '../../../privileged-helper/metrics/helper-metrics.js';
import { MetricsTally } from '../../../privileged-helper/metrics/metrics-tally.js';
import type { Probe } from '../../../shared/domain/types.js';

const run = promisify(execFile);

const snapshot = (): MetricsSnapshot => ({
  blockedAddresses: [],
  setCapacity: 1024,
  captureFrames: 0,
  captureUndecoded: 0,
  rpcConnections: 0,
  storeBytes: 0,
  storeEvents: 0,
  fleet: null,
  fleetRefused: new Map(),
  firewall: null,
  protecting: true,
});

describe('metrics tally', () => {
  it('shows on a page made later what was counted before it existed', async () => {
    const tally = new MetricsTally();
    const probe = { kind: 'syn', mode: 'stcp' } as Probe;
    tally.observeProbe(probe);
    tally.observeProbe(probe);
    tally.observeEvent({ type: 'block', change: 'added', at: 1, address: '198.18.0.1', reason: 'SYN probe of TCP port 555', until: null });
    tally.observeEvent({ type: 'block', change: 'removed', at: 2, address: '198.18.0.1', reason: 'unblocked by hand', until: null });
    const metrics = new HelperMetrics(snapshot, Date.now, tally);
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
