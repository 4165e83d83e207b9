// The queue of alerts for a LAPI that is down, the retry delays, the secrets' redaction.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentPorts, retryDelayMs, ShareQueue } from '../../../privileged-helper/fleet/share-queue.js';
import { REDACTED, redactConfigText, redactValues, writesRedactedSecret } from '../../../privileged-helper/fleet/secrets.js';

const block = (n: number) => ({ address: `198.18.1.${n}`, at: n, kind: 'syn', protocol: 'tcp', ports: [n], mode: 'stcp' });

describe('fleet share queue', () => {
  it('keeps alerts until they are confirmed, and drops the oldest when full (the flood while the LAPI is down)', () => {
    const queue = new ShareQueue(3);
    for (let n = 1; n <= 5; n++) queue.add(block(n));
    assert.equal(queue.length, 3);
    assert.equal(queue.dropped, 2);
    const batch = queue.peek(2);
    assert.deepEqual(
      batch.map((b) => b.at),
      [3, 4],
    );
    queue.add(block(6));
    queue.done(batch);
    assert.deepEqual(
      queue.peek().map((b) => b.at),
      [5, 6],
    );
  });

  it('waits longer after each failure, up to a minute, with jitter', () => {
    assert.equal(
      retryDelayMs(1, () => 0.5),
      1000,
    );
    assert.equal(
      retryDelayMs(3, () => 0.5),
      4000,
    );
    assert.equal(
      retryDelayMs(50, () => 0.5),
      60_000,
    );
    assert.equal(
      retryDelayMs(1, () => 0),
      800,
    );
    assert.equal(
      retryDelayMs(1, () => 1),
      1200,
    );
  });

  it('remembers a bounded number of recent ports per source', () => {
    const ports = new RecentPorts();
    for (let port = 1; port <= 100; port++) ports.note('198.18.1.1', port);
    ports.note('198.18.1.1', 100);
    const taken = ports.take('198.18.1.1');
    assert.equal(taken.length, 32);
    assert.equal(taken.at(-1), 100);
    assert.deepEqual(ports.take('198.18.1.1'), []);
  });
});

describe('fleet secrets', () => {
  it('shows a secret as set, never its value, in values and in the file text', () => {
    assert.deepEqual(redactValues({ FLEET_MACHINE_PASSWORD: 'hunter2', FLEET_BOUNCER_KEY: '', FLEET_MACHINE_ID: 'a' }), {
      FLEET_MACHINE_PASSWORD: REDACTED,
      FLEET_BOUNCER_KEY: '',
      FLEET_MACHINE_ID: 'a',
    });
    const text = 'FLEET_MACHINE_ID="a"\nFLEET_MACHINE_PASSWORD="hunter2"\n  FLEET_BOUNCER_KEY = k3y\nFLEET_BOUNCER_KEY_X="keep"\n# FLEET_MACHINE_PASSWORD="old"\n';
    const redacted = redactConfigText(text);
    assert.ok(!redacted.includes('hunter2') && !redacted.includes('k3y') && !redacted.includes('old'), redacted);
    assert.match(redacted, /FLEET_MACHINE_ID="a"/);
    assert.match(redacted, /FLEET_BOUNCER_KEY_X="keep"/);
  });

  it('refuses to write the placeholder over a secret', () => {
    assert.equal(writesRedactedSecret({ FLEET_BOUNCER_KEY: REDACTED }), 'FLEET_BOUNCER_KEY');
    assert.equal(writesRedactedSecret({ FLEET_BOUNCER_KEY: 'new-key' }), null);
  });
});
