import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { Probe } from '../../../shared/domain/types.js';
import { openTcpTripwires, openUdpTripwires, type TripwireHit } from '../../../privileged-helper/sensors/tripwires.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function nextHit(hits: TripwireHit[], count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${count} hits`)), 5000);
    const poll = setInterval(() => {
      if (hits.length >= count) {
        clearInterval(poll);
        clearTimeout(deadline);
        resolve();
      }
    }, 5);
  });
}

describe('TCP tripwires', () => {
  it('report a connect on IPv4 and IPv6 with the right fields, and send the banner', async () => {
    const port = await freePort();
    const hits: TripwireHit[] = [];
    const set = await openTcpTripwires({
      ports: [port],
      ipv6: true,
      clock: () => 1234,
      onHit: (hit) => {
        hits.push(hit);
        hit.reply('GO AWAY\n');
      },
    });
    try {
      assert.deepEqual(set.failed, []);
      assert.equal(set.bound.length, 2);
      for (const [host, source] of [
        ['127.0.0.1', '127.0.0.1'],
        ['::1', '::1'],
      ] as const) {
        const received = await new Promise<string>((resolve, reject) => {
          let data = '';
          const socket = connect({ host, port }, () => undefined);
          socket.on('data', (chunk) => (data += chunk.toString()));
          socket.on('close', () => resolve(data));
          socket.on('error', reject);
        });
        assert.equal(received, 'GO AWAY\n');
        const probe = hits.at(-1)?.probe as Probe;
        assert.deepEqual(probe, { source, family: source.includes(':') ? 6 : 4, port, protocol: 'tcp', kind: 'connect', mode: 'tcp', at: 1234 });
      }
    } finally {
      await set.close();
    }
  });

  it('hang up without a banner when no reply is asked for', async () => {
    const port = await freePort();
    const set = await openTcpTripwires({ ports: [port], ipv6: false, clock: Date.now, onHit: () => undefined });
    try {
      const received = await new Promise<string>((resolve, reject) => {
        let data = '';
        const socket = connect({ host: '127.0.0.1', port });
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(data) : reject(error)));
      });
      assert.equal(received, '');
    } finally {
      await set.close();
    }
  });

  it('report a port in use and skip it, binding the others', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve));
    const busyPort = (busy.address() as { port: number }).port;
    const freeOne = await freePort();
    const set = await openTcpTripwires({ ports: [busyPort, freeOne], ipv6: false, clock: Date.now, onHit: () => undefined });
    try {
      assert.deepEqual(set.failed, [{ port: busyPort, family: 4, reason: 'EADDRINUSE' }]);
      assert.deepEqual(set.bound, [{ port: freeOne, family: 4 }]);
    } finally {
      await set.close();
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});

describe('UDP tripwires', () => {
  it('report a datagram on IPv4 and IPv6 and answer with the banner', async () => {
    const port = await freePort();
    const hits: TripwireHit[] = [];
    const set = await openUdpTripwires(
      {
        ports: [port],
        ipv6: true,
        clock: () => 99,
        onHit: (hit) => {
          hits.push(hit);
          hit.reply('BANNER');
        },
      },
      'udp',
    );
    try {
      for (const [type, host] of [
        ['udp4', '127.0.0.1'],
        ['udp6', '::1'],
      ] as const) {
        const client = createSocket(type);
        const answer = new Promise<string>((resolve) => client.once('message', (msg) => resolve(msg.toString())));
        client.send('x', port, host);
        assert.equal(await answer, 'BANNER');
        client.close();
      }
      await nextHit(hits, 2);
      assert.deepEqual(
        hits.map((h) => [h.probe.source, h.probe.family, h.probe.protocol, h.probe.kind, h.probe.port, h.probe.at]),
        [
          ['127.0.0.1', 4, 'udp', 'udp', port, 99],
          ['::1', 6, 'udp', 'udp', port, 99],
        ],
      );
    } finally {
      await set.close();
    }
  });
});
