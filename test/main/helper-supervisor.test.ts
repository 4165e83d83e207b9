// The supervisor against a real helper: portsentryd in a lab namespace with its control
// socket in a temp dir. Kill it, restart it: the supervisor reports the loss, reconnects
// with backoff, subscribes again, and the events and scan record of a real nmap scan from a
// second lab host arrive. They then go through the notification policy: a 1,000-port scan is
// one record and one notification. The backoff itself is stepped with injected timers against a socket path
// where nothing listens (a real connect failure, not a fake client).

import { helperConfigText } from '../support/helper-config.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HelperState } from '../../shared/desktop-api.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import type { ScanRecord } from '../../shared/domain/scan-record.js';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../../main/backoff.js';
import { routeRequest } from '../../main/api-router.js';
import { HelperSupervisor, type SupervisorTimers } from '../../main/helper-supervisor.js';
import { validateIpcRequest } from '../../main/ipc-validation.js';
import { NotificationPolicy, type NotificationRequest } from '../../main/notification-policy.js';
import { PREFERENCE_DEFAULTS } from '../../main/preferences-schema.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { defaultSetup } from '../support/renderer-bridge.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { until } from '../support/wait.js';

const TABLE = `pssup${process.pid % 100000}`;

/** Timers the test fires by hand, recording every delay the supervisor asked for. */
function manualTimers(randomValue = 0.5) {
  const pending: { callback: () => void; ms: number; id: number }[] = [];
  const delays: number[] = [];
  let next = 1;
  const timers: SupervisorTimers = {
    setTimeout: (callback, ms) => {
      delays.push(ms);
      pending.push({ callback, ms, id: next });
      return next++;
    },
    clearTimeout: (handle) => {
      const index = pending.findIndex((p) => p.id === handle);
      if (index >= 0) pending.splice(index, 1);
    },
    random: () => randomValue,
  };
  return { timers, delays, pending, fire: () => pending.shift()?.callback() };
}

describe('backoff', () => {
  it('grows exponentially, is capped, and jitter stays within its share', () => {
    const policy = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, policy, () => 0)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.deepEqual(
      [0, 1, 4].map((a) => backoffDelay(a, policy, () => 0.999999)),
      [50, 100, 500],
    );
    assert.equal(
      backoffDelay(-3, policy, () => 0),
      100,
      'a negative attempt counts as the first',
    );
    assert.equal(
      backoffDelay(Number.NaN, policy, () => 0),
      100,
    );
    assert.equal(
      backoffDelay(1e9, DEFAULT_BACKOFF, () => 0),
      DEFAULT_BACKOFF.maxMs,
      'huge attempt numbers stay capped and finite',
    );
    assert.equal(
      backoffDelay(0, { ...policy, jitter: 7 }, () => 2),
      0,
      'out-of-range jitter and random are clamped',
    );
  });
});

describe('the supervisor with nothing listening', () => {
  it('reports not-running, retries with growing delays, and stop() cancels the retry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-sup-none-'));
    const { timers, delays, pending, fire } = manualTimers(0);
    const states: HelperState[] = [];
    const supervisor = new HelperSupervisor({ socketPath: join(dir, 'nobody.sock'), timers, backoff: { initialMs: 100, maxMs: 400, factor: 2, jitter: 0.5 } });
    supervisor.onState((s) => states.push(s));
    supervisor.onState(() => {
      throw new Error('a broken listener must not break the supervisor');
    });
    supervisor.start();
    supervisor.start(); // idempotent
    await until('the first attempt failed', () => delays.length === 1);
    assert.equal(supervisor.state.kind, 'unreachable');
    assert.equal(supervisor.state.kind === 'unreachable' && supervisor.state.reason, 'not-running');
    for (let i = 0; i < 4; i++) {
      fire();
      await until(`retry ${i + 1} failed`, () => delays.length === i + 2);
    }
    assert.deepEqual(delays, [100, 200, 400, 400, 400]);
    assert.deepEqual(
      states.map((s) => s.kind),
      ['unreachable'],
      'repeated identical failures are one state change, not a flapping tray',
    );
    await assert.rejects(supervisor.call('status', {}), /not connected/);
    // retryNow: the pending retry is replaced by an immediate attempt.
    supervisor.retryNow();
    assert.equal(pending.length, 0);
    await until('the immediate retry failed', () => delays.length === 6);
    assert.equal(pending.length, 1);
    supervisor.stop();
    assert.equal(pending.length, 0, 'no retry left behind');
    supervisor.retryNow(); // stopped: nothing happens
    await supervisor.refreshStatus(); // no connection: nothing happens
    assert.equal(delays.length, 6);
    await rm(dir, { recursive: true, force: true });
  });

  it('reports "protocol" when the socket answers but is not a helper it understands', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-sup-proto-'));
    const path = join(dir, 'impostor.sock');
    // Answers every request with a JSON-RPC error, as a helper of an incompatible version might.
    const server = createServer((socket) => {
      socket.on('data', (chunk) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          const { id } = JSON.parse(line) as { id: number };
          socket.write(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: 'method not found' } }) + '\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const { timers, delays } = manualTimers();
    const supervisor = new HelperSupervisor({ socketPath: path, timers });
    supervisor.start();
    await until('the attempt failed', () => delays.length === 1);
    assert.deepEqual(supervisor.state, { kind: 'unreachable', reason: 'protocol', message: 'method not found' });
    supervisor.stop();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
});

describe('the supervisor with a real helper', { timeout: 80_000 }, () => {
  let lab: Lab<'target' | 'scanner'>;
  let dir: string;
  let conf: string;
  let socketPath: string;
  let daemon: DaemonProcess;
  const start = async () => {
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, '-atcp']);
    await daemon.waitFor('Control socket listening on');
  };

  before(async () => {
    lab = await createLab(['target', 'scanner']);
    dir = await mkdtemp(join(tmpdir(), 'ps-sup-'));
    socketPath = join(dir, 'run', 'helper.sock');
    conf = join(dir, 'portsentry.conf');
    await writeFile(join(dir, 'ignore'), '');
    await writeFile(
      conf,
      helperConfigText(dir, {
        ADVANCED_PORTS_TCP: '1024',
        ADVANCED_EXCLUDE_TCP: '',
        // The helper reports each touch until the trigger, then one block and a summary:
        // a high trigger makes one real scan produce hundreds of events to coalesce.
        SCAN_TRIGGER: '500',
        NFT_TABLE: TABLE,
        RPC_SOCKET: socketPath,
        RPC_GROUP: 'root',
      }),
    );
    await start();
  });

  after(async () => {
    await daemon?.stop();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('connects, survives kill -9 and a restart, re-subscribes, and delivers a real scan that coalesces into one notification', async (t) => {
    const { target, scanner } = lab.hosts;
    const states: HelperState[] = [];
    const events: StoredEvent[] = [];
    const supervisor = new HelperSupervisor({ socketPath, backoff: { initialMs: 50, maxMs: 400, factor: 2, jitter: 0.5 } });
    supervisor.onState((s) => states.push(s));
    supervisor.onEvent((e) => events.push(e));
    // Scan records as pushed, with when they arrived (the app feeds them to its policy then).
    const records: Array<{ record: ScanRecord; at: number }> = [];
    supervisor.onScan((record) => records.push({ record, at: Date.now() }));
    supervisor.start();
    try {
      await until('connected', () => supervisor.state.kind === 'connected');
      assert.deepEqual(states[0], { kind: 'connected', paused: false, pausedUntil: null, notProtecting: null, degraded: null });

      // Pause through the supervisor: the state follows the answer at once.
      await supervisor.call('pause', {});
      assert.deepEqual(supervisor.state, { kind: 'connected', paused: true, pausedUntil: null, notProtecting: null, degraded: null });

      daemon.child.kill('SIGKILL');
      await daemon.exited;
      await until('the loss is reported', () => supervisor.state.kind === 'unreachable');
      await until('it retried while the helper was down', () => supervisor.failedAttempts >= 2);
      await start();
      await until('reconnected', () => supervisor.state.kind === 'connected');
      // A fresh helper starts unpaused: the status re-read after reconnecting says so.
      assert.deepEqual(supervisor.state, { kind: 'connected', paused: false, pausedUntil: null, notProtecting: null, degraded: null });
      // The loss is "disconnected", the retries that find no socket "not-running".
      assert.deepEqual(
        states.map((s) => (s.kind === 'unreachable' ? `unreachable:${s.reason}` : s.kind)),
        ['connected', 'connected', 'unreachable:disconnected', 'unreachable:not-running', 'connected'],
      );
      assert.equal(supervisor.failedAttempts, 0, 'a success resets the backoff');

      // Paused behind the app's back (portsentryctl does this): the helper pushes the change and
      // the state follows, with no status read (the app no longer polls for it).
      const other = await HelperClient.connect(socketPath);
      await other.call('pause', {});
      await until('the pause is pushed', () => supervisor.state.kind === 'connected' && supervisor.state.paused);
      assert.deepEqual(supervisor.state, { kind: 'connected', paused: true, pausedUntil: null, notProtecting: null, degraded: null });
      await other.call('resume', {});
      await until('the resume is pushed', () => supervisor.state.kind === 'connected' && !supervisor.state.paused);
      // A timed pause ends inside the helper, with no call from anyone: pushed too.
      const timed = await other.call('pause', { durationSeconds: 1 });
      await until('the timed pause is pushed', () => supervisor.state.kind === 'connected' && supervisor.state.pausedUntil === timed.pausedUntil);
      await until('the end of the timed pause is pushed', () => supervisor.state.kind === 'connected' && !supervisor.state.paused);
      other.close();
      assert.deepEqual(supervisor.state, { kind: 'connected', paused: false, pausedUntil: null, notProtecting: null, degraded: null });

      // A second supervisor stopped while its connect is in flight never reports anything.
      // A barrier, not a sleep: the connection that was in flight is closed by the quitter itself
      // (it would stay open, subscribed, if the quitter carried on), and only then is it judged.
      let quitterClosed = false;
      const quitter = new HelperSupervisor({
        socketPath,
        connect: async (path) => {
          const connection = await HelperClient.connect(path, { timeoutMs: 5_000 });
          connection.onClose(() => (quitterClosed = true));
          return connection;
        },
      });
      const quitterStates: HelperState[] = [];
      quitter.onState((s) => quitterStates.push(s));
      quitter.start();
      quitter.stop();
      await until('the quitter closed the connection it had in flight', () => quitterClosed);
      assert.deepEqual(quitterStates, []);
      assert.deepEqual(quitter.state, { kind: 'connecting' });

      // The renderer's path: a validated request routed through the supervisor.
      const validated = validateIpcRequest('portsentry:status', []);
      assert.ok(validated.ok);
      const local = {
        getPreferences: () => PREFERENCE_DEFAULTS,
        setPreferences: () => PREFERENCE_DEFAULTS,
        copyAddress: () => undefined,
        helperSetup: () => defaultSetup(supervisor.state),
        fixHelper: async () => ({ done: false, message: 'not here' }),
        lookupNetworks: () => [],
      };
      const envelope = await routeRequest(validated.request, { helper: supervisor, local });
      assert.ok(envelope.ok && (envelope.value as { running: boolean }).running === true, JSON.stringify(envelope));

      // A real 1,000-port SYN scan from the second host; the re-subscribed stream carries it.
      await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-T5', '-p', '1-1000', target.v4], { timeoutMs: 60_000 });
      await until('the scan and its block arrive', () => events.some((e) => e.type === 'block' && e.address === scanner.v4));
      // Wait for a fact, not for a quiet moment: at least half the ports' probes arrive as
      // events (a starved capture may drop some), then judge on what has arrived by then.
      const scansFrom = (list: readonly StoredEvent[]) => list.filter((e) => e.type === 'scan' && e.source === scanner.v4);
      await until('500 scan events from the scanner', () => scansFrom(events).length >= 500);
      const seen = events.slice();
      const scans = scansFrom(seen);
      // The record is pushed once a second: wait until it holds every probe seen as an event.
      const mine = () => records.filter((r) => r.record.scanner === scanner.v4);
      await until('the scan record holds the probes seen', () => mine().some((r) => r.record.probes >= scans.length));
      const pushes = mine();
      assert.equal(new Set(pushes.map((r) => r.record.id)).size, 1, 'one record for the whole scan');

      // Feed the real events and records, at their real times, to the notification policy.
      const policy = new NotificationPolicy();
      const shown: NotificationRequest[] = [];
      const feed = [
        ...seen.map((event) => ({ at: event.at, run: () => policy.onEvent(event, event.at, PREFERENCE_DEFAULTS) })),
        ...pushes.map(({ record, at }) => ({ at, run: () => policy.onRecord(record, at, PREFERENCE_DEFAULTS) })),
      ].sort((a, b) => a.at - b.at);
      for (const step of feed) shown.push(...step.run());
      const first = feed[0]!.at;
      for (let t = feed.at(-1)!.at; t <= first + 120_000; t += 1_000) shown.push(...policy.tick(t, PREFERENCE_DEFAULTS));
      // One notification for the scan: shown once, refreshed in place (same key) if the record grew after.
      assert.equal(new Set(shown.map((n) => n.key)).size, 1, `one notification for ${scans.length} scan events: ${JSON.stringify(shown)}`);
      assert.equal(shown[0]!.update, false);
      const note = shown.at(-1)!;
      const last = pushes.at(-1)!.record;
      t.diagnostic(`${scans.length} scan events, ${seen.length} events in all, ${pushes.length} record pushes -> ${JSON.stringify(note)}`);
      assert.equal(note.source, scanner.v4);
      assert.equal(note.blocked, true);
      assert.match(note.title, new RegExp(`Blocked a port scan from ${scanner.v4.replace(/\./g, '\\.')}`));
      assert.match(note.body, new RegExp(`^${last.probes} probes? on ${last.ports.tcp.length} ports?, TCP [\\d,-]+(,…)? \\(SYN scan\\)`));
      assert.deepEqual(note.actions, ['ignore']);
      const trigger = scans.find((e) => e.type === 'scan' && e.action === 'blocked');
      assert.equal(note.openEventId, trigger?.id, 'a click opens the event that triggered the block');
      assert.equal(policy.pendingBursts, 0);
      await supervisor.call('unblock', { address: scanner.v4 });
    } finally {
      supervisor.stop();
    }
    assert.equal(supervisor.state.kind, 'connected', 'stop() does not invent a state change');
  });
});
