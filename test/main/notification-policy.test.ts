// Coalescing, updates, preferences, quiet hours, actions and the aggregate for floods. The
// real-scan case (events of an actual nmap run) is in helper-supervisor.test.ts; here
// synthetic events reach every branch.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { NotificationPolicy, type NotificationPreferences, type NotificationRequest } from '../../main/notification-policy.js';
import { inQuietHours, localMinutesOfDay, parseClockTime } from '../../main/quiet-hours.js';

const T0 = 1_800_000_000_000;
const ALL: NotificationPreferences = { notifications: 'all', quietStart: '00:00', quietEnd: '00:00' };
const BLOCKS_ONLY: NotificationPreferences = { ...ALL, notifications: 'blocks-only' };
const OFF: NotificationPreferences = { ...ALL, notifications: 'off' };
/** Noon, whatever the instant: the tests choose the local time explicitly. */
const noon = () => 12 * 60;

type ScanAction = Extract<StoredEvent, { type: 'scan' }>['action'];
let nextId = 1;
function scan(source: string, port: number, action: ScanAction = 'counted', extra: Record<string, unknown> = {}): StoredEvent {
  return { id: nextId++, type: 'scan', at: T0, source, family: 4, port, protocol: 'tcp', kind: 'syn', mode: 'stcp', action, ...extra } as StoredEvent;
}

/** Runs the policy through `seconds` of ticks, collecting what it raises. */
function tickThrough(policy: NotificationPolicy, from: number, seconds: number, prefs: NotificationPreferences): NotificationRequest[] {
  const out: NotificationRequest[] = [];
  for (let t = from; t <= from + seconds * 1000; t += 1000) out.push(...policy.tick(t, prefs));
  return out;
}

describe('quiet hours', () => {
  it('parses HH:MM strictly', () => {
    assert.equal(parseClockTime('00:00'), 0);
    assert.equal(parseClockTime('23:59'), 23 * 60 + 59);
    for (const bad of ['24:00', '7:00', '07:60', '07:00 ', 'ab:cd', '']) assert.equal(parseClockTime(bad), null, bad);
  });
  it('handles plain ranges, ranges across midnight, empty ranges and invalid times', () => {
    const at = (h: number, m = 0) => h * 60 + m;
    assert.equal(inQuietHours(at(13), '12:00', '14:00'), true);
    assert.equal(inQuietHours(at(12), '12:00', '14:00'), true, 'start is inclusive');
    assert.equal(inQuietHours(at(14), '12:00', '14:00'), false, 'end is exclusive');
    assert.equal(inQuietHours(at(11, 59), '12:00', '14:00'), false);
    assert.equal(inQuietHours(at(23), '22:00', '07:00'), true);
    assert.equal(inQuietHours(at(3), '22:00', '07:00'), true);
    assert.equal(inQuietHours(at(7), '22:00', '07:00'), false);
    assert.equal(inQuietHours(at(12), '22:00', '07:00'), false);
    assert.equal(inQuietHours(at(12), '08:00', '08:00'), false, 'equal = no quiet hours');
    assert.equal(inQuietHours(at(12), '25:00', '07:00'), false, 'a bad preference never silences alerts');
    assert.equal(inQuietHours(at(12), '22:00', 'x'), false);
  });
  it('reads local time', () => {
    const local = new Date(2026, 0, 15, 21, 37).getTime();
    assert.equal(localMinutesOfDay(local), 21 * 60 + 37);
  });
});

describe('notification policy', () => {
  it('a 1,000-port scan is one notification, raised once the window has passed, with the whole count', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    const out: NotificationRequest[] = [];
    for (let port = 1; port <= 1000; port++) {
      const action: ScanAction = port < 5 ? 'counted' : port === 5 ? 'blocked' : 'already-blocked';
      out.push(...policy.onEvent(scan('198.18.0.11', port, action, { resolvedName: 'scanner.example' }), T0 + port * 3, ALL));
    }
    assert.equal(out.length, 0, 'nothing during the window');
    out.push(...tickThrough(policy, T0 + 3000, 120, ALL));
    assert.equal(out.length, 1);
    const note = out[0]!;
    assert.equal(note.update, false);
    assert.equal(note.title, 'Blocked a port scan from 198.18.0.11 (scanner.example)');
    assert.equal(note.body, '1000 probes on 1000 ports (SYN scan) within 3 s');
    assert.deepEqual(note.actions, ['ignore'], 'no Block for a source already blocked');
    assert.equal(note.source, '198.18.0.11');
    assert.equal(note.blocked, true);
    assert.equal(note.openEventId, nextId - 1000 + 4, 'a click opens the event that triggered the block');
    assert.equal(policy.pendingBursts, 0, 'the burst is finished and forgotten');
  });

  it('a long scan is shown after the window and refreshed in place at most every 30 s, final count included', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    const out: NotificationRequest[] = [];
    // One probe every 2 s for 75 s.
    for (let s = 0; s <= 75; s += 1) {
      if (s % 2 === 0) out.push(...policy.onEvent(scan('198.18.0.12', 100 + s), T0 + s * 1000, ALL));
      else out.push(...policy.tick(T0 + s * 1000, ALL));
    }
    out.push(...tickThrough(policy, T0 + 76_000, 60, ALL));
    assert.deepEqual(
      out.map((n) => [n.update, n.key === out[0]!.key, n.body]),
      [
        [false, true, '6 probes on 6 ports (SYN scan) within 10 s'],
        [true, true, '21 probes on 21 ports (SYN scan) within 40 s, still going'],
        [true, true, '36 probes on 36 ports (SYN scan) within 70 s, still going'],
        [true, true, '38 probes on 38 ports (SYN scan) within 74 s, still going'],
      ],
    );
    assert.equal(out[0]!.title, 'Port scan from 198.18.0.12');
    assert.deepEqual(out[0]!.actions, ['block', 'ignore']);
    assert.equal(policy.pendingBursts, 0);
  });

  it('a new burst from the same source after a quiet gap is a new notification', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    const out = [...policy.onEvent(scan('198.18.0.13', 1), T0, ALL), ...tickThrough(policy, T0, 15, ALL)];
    out.push(...policy.onEvent(scan('198.18.0.13', 2), T0 + 60_000, ALL), ...tickThrough(policy, T0 + 60_000, 15, ALL));
    assert.equal(out.length, 2);
    assert.notEqual(out[0]!.key, out[1]!.key);
    assert.equal(out[1]!.update, false);
  });

  it('respects "off" and "blocks-only", and a scan that gets blocked later is shown then', () => {
    const off = new NotificationPolicy({ localMinutes: noon });
    off.onEvent(scan('198.18.0.14', 1, 'blocked'), T0, OFF);
    assert.deepEqual(tickThrough(off, T0, 30, OFF), []);
    assert.equal(off.pendingBursts, 0);

    const policy = new NotificationPolicy({ localMinutes: noon });
    policy.onEvent(scan('198.18.0.15', 1, 'counted'), T0, BLOCKS_ONLY);
    assert.deepEqual(tickThrough(policy, T0, 5, BLOCKS_ONLY), []);
    policy.onEvent(scan('198.18.0.15', 2, 'counted'), T0 + 6_000, BLOCKS_ONLY);
    assert.deepEqual(tickThrough(policy, T0 + 6_000, 3, BLOCKS_ONLY), [], 'window passed, but nothing blocked yet');
    const out = policy.onEvent(scan('198.18.0.15', 3, 'blocked'), T0 + 12_000, BLOCKS_ONLY);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.blocked, true);
    assert.equal(out[0]!.body, '3 probes on 3 ports (SYN scan) within 12 s');

    const neverBlocked = new NotificationPolicy({ localMinutes: noon });
    neverBlocked.onEvent(scan('198.18.0.16', 1, 'alert-only'), T0, BLOCKS_ONLY);
    assert.deepEqual(tickThrough(neverBlocked, T0, 30, BLOCKS_ONLY), []);
    assert.equal(neverBlocked.pendingBursts, 0, 'dropped once idle');
  });

  it('quiet hours hold notifications back, wrapping midnight, in local time', () => {
    let minutes = 23 * 60 + 30;
    const policy = new NotificationPolicy({ localMinutes: () => minutes });
    const prefs = { ...ALL, quietStart: '22:00', quietEnd: '07:00' };
    policy.onEvent(scan('198.18.0.17', 1, 'blocked'), T0, prefs);
    assert.deepEqual(tickThrough(policy, T0, 30, prefs), []);
    assert.equal(policy.pendingBursts, 0);
    minutes = 7 * 60;
    policy.onEvent(scan('198.18.0.17', 2, 'blocked'), T0 + 100_000, prefs);
    assert.equal(tickThrough(policy, T0 + 100_000, 30, prefs).length, 1, 'after quiet hours they flow again');
  });

  it('a shown burst that becomes ineligible stops updating and is dropped', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    policy.onEvent(scan('198.18.0.18', 1), T0, ALL);
    assert.equal(tickThrough(policy, T0, 10, ALL).length, 1);
    policy.onEvent(scan('198.18.0.18', 2), T0 + 12_000, ALL);
    assert.deepEqual(tickThrough(policy, T0 + 12_000, 60, OFF), []);
    assert.equal(policy.pendingBursts, 0);
  });

  it('ignored sources never notify; block events adjust the offered actions without notifying', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    assert.deepEqual(policy.onEvent(scan('198.18.0.19', 1, 'ignored'), T0, ALL), []);
    assert.equal(policy.pendingBursts, 0);
    policy.onEvent(scan('198.18.0.20', 1, 'counted'), T0, ALL);
    assert.deepEqual(policy.onEvent({ id: 999, type: 'block', change: 'added', at: T0, address: '198.18.0.20', reason: 'by hand', until: null }, T0 + 1, ALL), []);
    policy.onEvent({ id: 1000, type: 'block', change: 'added', at: T0, address: '198.18.0.99', reason: 'unrelated', until: null }, T0 + 2, ALL);
    const [note] = tickThrough(policy, T0, 10, ALL);
    assert.equal(note?.blocked, true);
    assert.deepEqual(note?.actions, ['ignore']);
    assert.equal(note?.title, 'Blocked a port scan from 198.18.0.20');
    assert.equal(note?.openEventId, nextId - 1, 'no triggering event: the first event');
  });

  it('says when a block failed, and keeps offering Block', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    policy.onEvent(scan('fd00:5e::c', 1, 'block-failed', { family: 6, kind: 'fin' }), T0, ALL);
    policy.onEvent(scan('fd00:5e::c', 1, 'block-failed', { family: 6, kind: 'xmas' }), T0 + 500, ALL);
    const [note] = tickThrough(policy, T0, 10, ALL);
    assert.equal(note?.title, 'Port scan from fd00:5e::c: block failed');
    assert.equal(note?.body, '2 probes on 1 port (FIN scan, XMAS scan) within 1 s');
    assert.deepEqual(note?.actions, ['block', 'ignore']);
  });

  it('folds a flood of sources into one summary notification from the start, refreshed at most every 30 s', () => {
    const policy = new NotificationPolicy({ localMinutes: noon, maxNewPerMinute: 3 });
    for (let i = 0; i < 50; i++) policy.onEvent(scan(`198.19.0.${i}`, 1, i % 2 === 0 ? 'blocked' : 'counted'), T0 + i * 10, ALL);
    const out = tickThrough(policy, T0, 11, ALL);
    assert.equal(out.length, 1, 'one summary, no singles before it');
    const aggregate = out[0]!;
    assert.deepEqual(
      { title: aggregate.title, body: aggregate.body, source: aggregate.source, actions: aggregate.actions, openEventId: aggregate.openEventId, update: aggregate.update, blocked: aggregate.blocked },
      { title: 'Port scans from 50 sources', body: '25 of them blocked. Open the dashboard for the list.', source: null, actions: [], openEventId: null, update: false, blocked: true },
    );
    // More flood within 30 s: folded, then one refresh of the same aggregate.
    for (let i = 50; i < 60; i++) policy.onEvent(scan(`198.19.0.${i}`, 1), T0 + 11_000, ALL);
    const more = tickThrough(policy, T0 + 11_000, 40, ALL);
    assert.equal(more.length, 1);
    assert.equal(more[0]!.key, aggregate.key);
    assert.equal(more[0]!.update, true);
    assert.equal(more[0]!.title, 'Port scans from 60 sources');
    assert.equal(more[0]!.blocked, true);
    // A minute of calm later, the next flood starts a fresh aggregate.
    tickThrough(policy, T0 + 52_000, 70, ALL);
    for (let i = 0; i < 5; i++) policy.onEvent(scan(`198.19.1.${i}`, 1), T0 + 200_000, ALL);
    const next = tickThrough(policy, T0 + 200_000, 11, ALL);
    assert.equal(next.length, 1);
    assert.notEqual(next[0]!.key, aggregate.key);
    assert.equal(next[0]!.title, 'Port scans from 5 sources');
    assert.equal(next[0]!.blocked, false);
    // Within the allowance, each source still has its own notification.
    tickThrough(policy, T0 + 211_000, 130, ALL);
    for (let i = 0; i < 3; i++) policy.onEvent(scan(`198.19.2.${i}`, 1), T0 + 400_000, ALL);
    const few = tickThrough(policy, T0 + 400_000, 11, ALL);
    assert.deepEqual(
      few.map((n) => n.source),
      ['198.19.2.0', '198.19.2.1', '198.19.2.2'],
    );
  });

  it('with a limit of 0 everything is aggregated, and turning notifications off stops its refreshes', () => {
    const policy = new NotificationPolicy({ localMinutes: noon, maxNewPerMinute: 0 });
    policy.onEvent(scan('198.19.2.1', 1), T0, ALL);
    const first = policy.tick(T0 + 10_000, ALL);
    assert.deepEqual(
      first.map((n) => n.title),
      ['Port scans from 1 source'],
    );
    policy.onEvent(scan('198.19.2.2', 1), T0 + 10_000, ALL);
    assert.deepEqual(policy.tick(T0 + 20_000, ALL), [], 'folded, but the aggregate was refreshed less than 30 s ago');
    assert.deepEqual(tickThrough(policy, T0 + 21_000, 60, OFF), []);
    const back = tickThrough(policy, T0 + 82_000, 1, ALL);
    assert.deepEqual(
      back.map((n) => [n.title, n.update]),
      [['Port scans from 2 sources', true]],
      'the count caught up when allowed again',
    );
  });
});
