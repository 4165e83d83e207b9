import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { bindTripwiresEarly, tripwireKey, type TripwireEvent } from '../../../privileged-helper/sensors/early-tripwires.js';
import { until } from '../../support/wait.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('early tripwires: bound before the daemon is up, nothing caught in between is lost', () => {
  it('a connect before attach() is queued with its connection held open, replayed in order, and answered', async () => {
    const port = await freePort();
    const config = parseConfig(`TCP_PORTS="${port}"\nUDP_PORTS=""\nIPV6="0"`, 'early.conf');
    // The clock is read once per accepted connection: the count says the tripwire took it.
    let accepted = 0;
    const early = await bindTripwiresEarly(config, ['tcp'], () => {
      accepted += 1;
      return 42;
    });
    try {
      assert.equal(early.sets.length, 1);
      assert.deepEqual(early.sets[0]?.set.bound, [{ port, family: 4 }]);
      // The probe arrives while the daemon is still starting: nobody to hand it to yet.
      const client = connect({ host: '127.0.0.1', port });
      let received = '';
      client.on('data', (chunk) => (received += String(chunk)));
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
      await new Promise<void>((resolve) => client.on('connect', () => resolve()));
      await until('the tripwire accepted the connection', () => accepted === 1);
      assert.equal(client.destroyed, false, 'held open while queued');
      // The daemon is up: the queued hit is replayed, answered, and released.
      const events: Array<[TripwireEvent, boolean]> = [];
      early.attach((event, replayed) => {
        events.push([event, replayed]);
        if (event.type === 'hit') {
          event.hit.reply('GO AWAY\n');
          if (replayed) event.hit.release();
        }
      });
      assert.equal(events.length, 1);
      const [event, replayed] = events[0]!;
      assert.equal(replayed, true);
      assert.ok(event.type === 'hit');
      assert.deepEqual([event.hit.probe.source, event.hit.probe.port, event.hit.probe.kind, event.hit.probe.at], ['127.0.0.1', port, 'connect', 42]);
      await closed;
      assert.equal(received, 'GO AWAY\n');
      // After attach, hits go straight through (not replayed).
      const second = connect({ host: '127.0.0.1', port });
      second.resume();
      await new Promise<void>((resolve) => second.on('close', () => resolve()));
      assert.deepEqual(
        events.map(([, r]) => r),
        [true, false],
      );
    } finally {
      await early.close();
    }
  });

  it('the key names the classic modes, their ports and IPv6, so a changed config is not served by stale sockets', () => {
    const a = parseConfig('TCP_PORTS="1,2"\nUDP_PORTS="3"', 'a.conf');
    const b = parseConfig('TCP_PORTS="1,2,4"\nUDP_PORTS="3"', 'b.conf');
    assert.equal(tripwireKey(a, ['tcp', 'udp', 'stcp']), tripwireKey(a, ['tcp', 'udp']));
    assert.notEqual(tripwireKey(a, ['tcp']), tripwireKey(b, ['tcp']));
    assert.notEqual(tripwireKey(a, ['tcp']), tripwireKey(a, ['tcp', 'udp']));
  });
});
