// The metrics endpoint under a hostile client, in a namespace of its own (the endpoint and
// both clients run in a child node there): one client's many slow connections (slowloris)
// must not lock Prometheus out, and a huge header is refused.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const NS = `psmetrics${process.pid}`;
const SERVER = '198.18.201.1';
const ATTACKER = '198.18.201.2';

const here = (path: string) => new URL(path, import.meta.url).href;

/** Runs in the namespace: the endpoint, 70 slow connections from the attacker, then a scrape and a huge header. */
const script = `
import { connect } from 'node:net';
import { request } from 'node:http';
import { HelperMetrics } from '${here('../../../privileged-helper/metrics/helper-metrics.js')}';
import { MetricsServer } from '${here('../../../privileged-helper/metrics/metrics-server.js')}';
const metrics = new HelperMetrics(() => ({ blockedAddresses: [], setCapacity: 1024, captureFrames: 0, captureUndecoded: 0, rpcConnections: 0, storeBytes: 0, storeEvents: 0, fleet: null, fleetRefused: new Map(), firewall: null, protecting: true }));
const server = new MetricsServer(metrics.registry, '${SERVER}', 9469);
await server.listen();
// Slowloris: many connections, each a header line at a time, never done.
const slow = await Promise.all(Array.from({ length: 70 }, () => new Promise((resolve) => {
  const socket = connect({ host: '${SERVER}', port: 9469, localAddress: '${ATTACKER}' });
  socket.on('error', () => undefined);
  socket.once('connect', () => { socket.write('GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n'); resolve(socket); });
  socket.once('close', () => resolve(socket));
})));
const get = (headers) => new Promise((resolve) => {
  const req = request({ host: '${SERVER}', port: 9469, path: '/metrics', localAddress: '${SERVER}', headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
  req.on('error', (error) => resolve('failed: ' + error.code));
  req.end();
});
const scrape = await get({});
const huge = await get({ 'x-big': 'a'.repeat(100_000) });
for (const socket of slow) socket.destroy();
await server.close();
process.stdout.write(JSON.stringify({ scrape, huge }));
`;

describe('metrics endpoint against a hostile client (in a namespace)', { timeout: 120_000 }, () => {
  before(async () => {
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
    for (const address of [SERVER, ATTACKER]) await run('ip', ['netns', 'exec', NS, 'ip', 'addr', 'add', `${address}/32`, 'dev', 'lo']);
  });
  after(async () => {
    await run('ip', ['netns', 'delete', NS]).catch(() => undefined);
  });

  it('still serves Prometheus while one client holds slow connections, and refuses a huge header', async () => {
    const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', script], { timeout: 100_000 });
    const { scrape, huge } = JSON.parse(stdout) as { scrape: number | string; huge: number | string };
    assert.equal(scrape, 200);
    // Refused: a 431, or the connection cut while the client is still sending the header.
    assert.match(String(huge), /^(431|failed: ECONNRESET|failed: EPIPE)$/);
  });
});
