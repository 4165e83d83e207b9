import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HalfOpenTracker, type HandshakeFacts, type Timers } from '../../../privileged-helper/capture/half-open-tracker.js';
import { parseAcceptQueues } from '../../../privileged-helper/capture/accept-queue.js';
import type { Probe } from '../../../shared/domain/types.js';

/** Timers on a clock the test moves by hand. */
class ManualTimers implements Timers {
  now = 0;
  private nextId = 1;
  private readonly scheduled = new Map<number, { due: number; callback: () => void }>();

  set(callback: () => void, ms: number): unknown {
    const id = this.nextId;
    this.nextId += 1;
    this.scheduled.set(id, { due: this.now + ms, callback });
    return { id };
  }

  clear(handle: unknown): void {
    this.scheduled.delete((handle as { id: number }).id);
  }

  get active(): number {
    return this.scheduled.size;
  }

  /** Moves the clock forward, firing every timer that falls due, in due order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      // Batches rather than one scan per timer: the bound test schedules 65 536 of them.
      const due = [...this.scheduled].filter(([, timer]) => timer.due <= until).sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
      if (due.length === 0) break;
      for (const [id, timer] of due) {
        if (!this.scheduled.has(id)) continue; // cleared by an earlier callback
        this.scheduled.delete(id);
        this.now = timer.due;
        timer.callback();
      }
    }
    this.now = until;
  }
}

const GRACE = 500;
const A = '198.18.0.11';
const B = '198.18.0.12';

function syn(source: string, port: number, at = 1000): Probe {
  return { source, family: 4, port, protocol: 'tcp', kind: 'syn', mode: 'tcp', at, tcpFlags: 0x02 };
}

function setup(): { tracker: HalfOpenTracker; timers: ManualTimers; reported: Probe[]; unattributed: number[] } {
  const timers = new ManualTimers();
  const reported: Probe[] = [];
  const unattributed: number[] = [];
  const tracker = new HalfOpenTracker(
    GRACE,
    (probe) => reported.push(probe),
    (port) => unattributed.push(port),
    timers,
  );
  return { tracker, timers, reported, unattributed };
}

describe('HalfOpenTracker', () => {
  it('a SYN followed by its connection is not reported, and its timer is gone', () => {
    const { tracker, timers, reported, unattributed } = setup();
    tracker.synSeen(syn(A, 79));
    timers.advance(GRACE - 1);
    tracker.connected(A, 79);
    assert.equal(timers.active, 0);
    timers.advance(10 * GRACE);
    assert.equal(reported.length, 0);
    assert.equal(unattributed.length, 0);
  });

  it('a SYN nobody claims is reported as the syn probe it was, exactly when the grace ends', () => {
    const { tracker, timers, reported } = setup();
    const probe = syn(A, 79);
    tracker.synSeen(probe);
    timers.advance(GRACE - 1);
    assert.equal(reported.length, 0);
    timers.advance(1);
    assert.deepEqual(reported, [probe]);
    timers.advance(10 * GRACE);
    assert.equal(reported.length, 1);
  });

  it('a connection from another source or port does not claim the SYN', () => {
    const { tracker, timers, reported } = setup();
    tracker.synSeen(syn(A, 79));
    tracker.connected(B, 79);
    tracker.connected(A, 80);
    timers.advance(GRACE);
    assert.deepEqual(
      reported.map((p) => `${p.source}|${p.port}|${p.kind}`),
      [`${A}|79|syn`],
    );
  });

  it('a repeated SYN from the same source and port while pending is reported once', () => {
    const { tracker, timers, reported } = setup();
    tracker.synSeen(syn(A, 79, 1000));
    timers.advance(100);
    tracker.synSeen(syn(A, 79, 1100));
    timers.advance(GRACE);
    assert.deepEqual(
      reported.map((p) => p.at),
      [1000],
    );
    // After reporting, the same source and port can be pending again.
    tracker.synSeen(syn(A, 79, 2000));
    timers.advance(GRACE);
    assert.deepEqual(
      reported.map((p) => p.at),
      [1000, 2000],
    );
  });

  it('a connection with an unknown peer after the SYN claims it: returns the source, nothing reported', () => {
    const { tracker, timers, reported, unattributed } = setup();
    tracker.synSeen(syn(A, 79));
    assert.equal(tracker.claimUnknownPeer(79), A);
    assert.equal(timers.active, 0);
    timers.advance(10 * GRACE);
    assert.equal(reported.length, 0);
    assert.equal(unattributed.length, 0);
  });

  it('an unknown peer claims the newest pending SYN on its port; the older one is still reported', () => {
    const { tracker, timers, reported } = setup();
    tracker.synSeen(syn(A, 79));
    tracker.synSeen(syn(B, 80));
    tracker.synSeen(syn(B, 79));
    assert.equal(tracker.claimUnknownPeer(79), B);
    timers.advance(GRACE);
    assert.deepEqual(reported.map((p) => `${p.source}|${p.port}`).sort(), [`${A}|79`, `${B}|80`]);
  });

  it('an unknown peer before the SYN: the SYN, when it comes, is reported at once as a connect', () => {
    const { tracker, timers, reported, unattributed } = setup();
    assert.equal(tracker.claimUnknownPeer(79), null);
    assert.equal(reported.length, 0);
    timers.advance(GRACE - 1);
    const probe = syn(A, 79, 1234);
    tracker.synSeen(probe);
    assert.deepEqual(reported, [{ ...probe, kind: 'connect' }]);
    assert.equal(timers.active, 0);
    timers.advance(10 * GRACE);
    assert.equal(reported.length, 1);
    assert.equal(unattributed.length, 0);
  });

  it('an orphan connection only waits for a SYN on its own port', () => {
    const { tracker, timers, reported, unattributed } = setup();
    assert.equal(tracker.claimUnknownPeer(79), null);
    tracker.synSeen(syn(A, 80));
    assert.equal(reported.length, 0);
    timers.advance(GRACE);
    assert.deepEqual(unattributed, [79]);
    assert.deepEqual(
      reported.map((p) => `${p.port}|${p.kind}`),
      ['80|syn'],
    );
  });

  it('an orphan never followed by a SYN is handed to unattributed(port) after the grace, once', () => {
    const { tracker, timers, reported, unattributed } = setup();
    assert.equal(tracker.claimUnknownPeer(31337), null);
    timers.advance(GRACE - 1);
    assert.equal(unattributed.length, 0);
    timers.advance(1);
    assert.deepEqual(unattributed, [31337]);
    timers.advance(10 * GRACE);
    assert.deepEqual(unattributed, [31337]);
    assert.equal(reported.length, 0);
    // The orphan is gone: a later SYN is an ordinary pending SYN again.
    tracker.synSeen(syn(A, 31337));
    assert.equal(reported.length, 0);
    timers.advance(GRACE);
    assert.equal(reported[0]?.kind, 'syn');
  });

  it('two orphans on a port and one SYN: the SYN goes to the older orphan, the newer one ends unattributed', () => {
    const { tracker, timers, reported, unattributed } = setup();
    tracker.claimUnknownPeer(79); // t = 0
    timers.advance(10);
    tracker.claimUnknownPeer(79); // t = 10
    tracker.synSeen(syn(A, 79));
    assert.deepEqual(
      reported.map((p) => p.kind),
      ['connect'],
    );
    // The orphan of t = 0 was taken, so nothing ends at t = 500; the one of t = 10 ends at 510.
    timers.advance(GRACE - 10);
    assert.equal(unattributed.length, 0);
    timers.advance(10);
    assert.deepEqual(unattributed, [79]);
    assert.equal(reported.length, 1);
  });

  it('clear() cancels pending SYNs and orphans alike', () => {
    const { tracker, timers, reported, unattributed } = setup();
    tracker.synSeen(syn(A, 79));
    tracker.synSeen(syn(B, 80));
    tracker.claimUnknownPeer(81);
    assert.equal(timers.active, 3);
    tracker.clear();
    assert.equal(timers.active, 0);
    timers.advance(10 * GRACE);
    assert.equal(reported.length, 0);
    assert.equal(unattributed.length, 0);
    // Nothing is left to claim either.
    assert.equal(tracker.claimUnknownPeer(79), null);
    tracker.clear();
    timers.advance(GRACE);
    assert.equal(unattributed.length, 0);
  });

  it('at the bound of 65536 pending SYNs, the oldest is reported at once to make room', () => {
    const { tracker, timers, reported } = setup();
    const source = (i: number) => `198.18.${i >> 8}.${i & 0xff}`;
    for (let i = 0; i < 65_536; i += 1) tracker.synSeen(syn(source(i), 1000, i));
    assert.equal(reported.length, 0);
    assert.equal(timers.active, 65_536);
    tracker.synSeen(syn(A, 2000, 99_999));
    assert.equal(reported.length, 1);
    assert.equal(reported[0]?.source, source(0));
    assert.equal(reported[0]?.at, 0);
    assert.equal(timers.active, 65_536);
    // The next one pushes out the second oldest, not the first again.
    tracker.synSeen(syn(B, 2000, 100_000));
    assert.deepEqual(
      reported.map((p) => p.source),
      [source(0), source(1)],
    );
    timers.advance(GRACE);
    assert.equal(reported.length, 65_538);
    assert.equal(new Set(reported.map((p) => `${p.source}|${p.port}`)).size, 65_538, 'each SYN reported exactly once');
  });

  it('with the default timers a SYN is reported after the real grace period', async () => {
    const reported: Probe[] = [];
    const tracker = new HalfOpenTracker(20, (probe) => reported.push(probe));
    tracker.synSeen(syn(A, 79));
    tracker.synSeen(syn(B, 79));
    tracker.connected(B, 79);
    assert.equal(reported.length, 0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(
      reported.map((p) => p.source),
      [A],
    );
  });
});

describe('HalfOpenTracker: the verdict rests on kernel facts, not on event order', () => {
  function withFacts(queue: Map<number, number>, orphanGraceMs = 5000) {
    const timers = new ManualTimers();
    const reported: Probe[] = [];
    const unattributed: number[] = [];
    const facts: HandshakeFacts = { acceptQueue: (port) => queue.get(port) ?? 0, orphanGraceMs, now: () => timers.now };
    const tracker = new HalfOpenTracker(
      GRACE,
      (probe) => reported.push(probe),
      (port) => unattributed.push(port),
      timers,
      facts,
    );
    return { tracker, timers, reported, unattributed };
  }

  it('grace over while a completed connection waits unaccepted on the port: no verdict until accept() has run', () => {
    const queue = new Map([[79, 1]]);
    const { tracker, timers, reported } = withFacts(queue);
    tracker.synSeen(syn(A, 79));
    // The event loop was starved: the grace is long over and accept() has not run yet.
    timers.advance(GRACE * 3);
    assert.equal(reported.length, 0, 'not called half-open while its handshake waits in the accept queue');
    // accept() runs: the connection's peer is known, it claims the SYN.
    queue.set(79, 0);
    tracker.connected(A, 79);
    timers.advance(GRACE * 10);
    assert.equal(reported.length, 0);
  });

  it('...and an accept whose peer already reset (nmap -sT) claims it as a connect', () => {
    const queue = new Map([[79, 1]]);
    const { tracker, timers, reported } = withFacts(queue);
    tracker.synSeen(syn(A, 79));
    timers.advance(GRACE * 2);
    queue.set(79, 0);
    assert.equal(tracker.claimUnknownPeer(79), A);
    timers.advance(GRACE * 10);
    assert.equal(reported.length, 0);
  });

  it('an empty accept queue when the grace ends: the handshake never completed, half-open', () => {
    const { tracker, timers, reported } = withFacts(new Map([[80, 5]]));
    tracker.synSeen(syn(A, 79));
    timers.advance(GRACE);
    assert.deepEqual(
      reported.map((p) => p.kind),
      ['syn'],
    );
  });

  it('a queue that never drains holds the verdict for a bounded time only', () => {
    const { tracker, timers, reported } = withFacts(new Map([[79, 3]]));
    tracker.synSeen(syn(A, 79));
    timers.advance(GRACE + 100 * 20 - 1);
    assert.equal(reported.length, 0);
    timers.advance(1);
    assert.deepEqual(
      reported.map((p) => p.kind),
      ['syn'],
    );
  });

  it('capture far behind accept(): a reset connection waits the orphan grace for its SYN, and only a SYN captured before the accept matches', () => {
    const { tracker, timers, reported, unattributed } = withFacts(new Map());
    timers.advance(10_000);
    assert.equal(tracker.claimUnknownPeer(79), null); // accepted at t = 10 000
    timers.advance(2 * GRACE);
    // The SYN of a different, later connection (captured after the accept) is not its SYN.
    tracker.synSeen(syn(B, 79), 10_000 + 2 * GRACE);
    // tcpdump delivers the orphan's own SYN, captured before the accept, a second late.
    timers.advance(1000);
    tracker.synSeen(syn(A, 79), 9_999);
    assert.deepEqual(
      reported.map((p) => `${p.source} ${p.kind}`),
      [`${B} syn`, `${A} connect`],
    );
    timers.advance(10_000);
    assert.equal(unattributed.length, 0);
  });

  it('capture saw the handshake complete: an unknown-peer accept claims that SYN, not a newer spoofed one', () => {
    const { tracker, timers, reported } = withFacts(new Map());
    tracker.synSeen(syn(A, 79));
    tracker.ackSeen(A, 79);
    // A flood of spoofed SYNs on the same port, newer than A's.
    tracker.synSeen(syn(B, 79));
    assert.equal(tracker.claimUnknownPeer(79), A);
    timers.advance(GRACE);
    assert.deepEqual(
      reported.map((p) => `${p.source} ${p.kind}`),
      [`${B} syn`],
    );
  });

  it('a completed handshake whose accept went elsewhere is reported as a connect when its grace ends', () => {
    const { tracker, timers, reported } = withFacts(new Map());
    tracker.synSeen(syn(A, 79));
    tracker.ackSeen(A, 79);
    tracker.ackSeen(B, 79); // an ACK with no pending SYN changes nothing
    timers.advance(GRACE);
    assert.deepEqual(
      reported.map((p) => `${p.source} ${p.kind}`),
      [`${A} connect`],
    );
  });

  it('parseAcceptQueues reads the accept backlog of LISTEN sockets (rx_queue), IPv4 and IPv6 summed', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:004F 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0',
      '   1: 0A12C60A:004F 0B12C60A:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1',
      '   2: 00000000:7A69 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    const tcp6 = '   0: 00000000000000000000000000000000:004F 00000000000000000000000000000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 1004 1\n';
    const queues = parseAcceptQueues(tcp6, parseAcceptQueues(tcp));
    assert.equal(queues.get(79), 3);
    assert.equal(queues.get(31337), 0);
    assert.equal(queues.get(40000), undefined, 'an established connection is not a listener');
  });
});
