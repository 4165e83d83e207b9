// One notification per scan record, updates, preferences, quiet hours, actions and the
// aggregate for floods. The real-scan case (records and events of an actual nmap run) is in
// helper-supervisor.test.ts and notification-actions.test.ts; here synthetic records reach
// every branch.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import type { ScanRecord } from '../../shared/domain/scan-record.js';
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

/** A scan record as the helper pushes it: `ports` TCP ports touched, one probe each unless `probes` says. */
function record(source: string, first: number, last: number, ports: readonly number[], extra: Partial<ScanRecord> = {}): ScanRecord {
  return {
    id: `${source}@${first}`,
    scanner: source,
    family: source.includes(':') ? 6 : 4,
    firstProbe: first,
    lastProbe: last,
    ports: { tcp: [...ports], udp: [] },
    kinds: ['syn'],
    protocols: ['tcp'],
    probes: ports.length,
    outcome: 'watched',
    ...extra,
  };
}

const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);
/** The body without its port list, to compare counts and words. */
const withoutPorts = (body: string) => body.replace(/, (TCP|UDP) [^(]*\(/, ' (');

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
  it('a 1,000-port scan is one notification keyed by its record, raised once the window has passed, with the whole count', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    const out: NotificationRequest[] = [];
    // The first events come before the first record (records are pushed once a second).
    for (let port = 1; port <= 5; port++) out.push(...policy.onEvent(scan('198.18.0.11', port, port < 5 ? 'counted' : 'blocked', { resolvedName: 'scanner.example' }), T0 + port * 3, ALL));
    const trigger = nextId - 1;
    for (const [second, last] of [
      [1, 300],
      [2, 700],
      [3, 1000],
    ] as const) {
      out.push(...policy.onRecord(record('198.18.0.11', T0 + 3, T0 + last * 3, range(1, last), { outcome: 'blocked' }), T0 + second * 1000, ALL));
    }
    assert.equal(out.length, 0, 'nothing during the window');
    out.push(...tickThrough(policy, T0 + 3000, 120, ALL));
    assert.equal(out.length, 1);
    const note = out[0]!;
    assert.equal(note.key, `scan:198.18.0.11@${T0 + 3}`, 'keyed by the scan record');
    assert.equal(note.update, false);
    assert.equal(note.title, 'Blocked a port scan from 198.18.0.11 (scanner.example)');
    assert.equal(note.body, '1000 probes on 1000 ports, TCP 1-1000 (SYN scan) within 3 s');
    assert.deepEqual(note.actions, ['ignore'], 'no Block for a source already blocked');
    assert.equal(note.source, '198.18.0.11');
    assert.equal(note.blocked, true);
    assert.equal(note.openEventId, trigger, 'a click opens the event that triggered the block');
    assert.equal(policy.pendingBursts, 0, 'the scan is finished and forgotten');
  });

  it('a long scan is shown after the window and refreshed in place at most every 30 s as its record grows, final count included', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    const out: NotificationRequest[] = [];
    // One probe every 2 s for 75 s: the record grows each time.
    for (let s = 0; s <= 75; s += 1) {
      if (s % 2 === 0) out.push(...policy.onRecord(record('198.18.0.12', T0, T0 + s * 1000, range(100, 100 + s, 2)), T0 + s * 1000, ALL));
      else out.push(...policy.tick(T0 + s * 1000, ALL));
    }
    out.push(...tickThrough(policy, T0 + 76_000, 60, ALL));
    assert.deepEqual(
      out.map((n) => [n.update, n.key === out[0]!.key, withoutPorts(n.body)]),
      [
        [false, true, '6 probes on 6 ports (SYN scan) within 10 s'],
        [true, true, '21 probes on 21 ports (SYN scan) within 40 s, still going'],
        [true, true, '36 probes on 36 ports (SYN scan) within 70 s, still going'],
        [true, true, '38 probes on 38 ports (SYN scan) within 74 s, still going'],
      ],
    );
    assert.equal(out[0]!.body, '6 probes on 6 ports, TCP 100,102,104,106,108,110 (SYN scan) within 10 s');
    // 38 ports as runs are longer than a notification holds: cut at a whole port.
    assert.match(out[3]!.body, /^38 probes on 38 ports, TCP 100,102,[\d,]+,… \(SYN scan\)/);
    assert.equal(out[0]!.title, 'Port scan from 198.18.0.12');
    assert.deepEqual(out[0]!.actions, ['block', 'ignore']);
    assert.equal(policy.pendingBursts, 0);
  });

  it('a new scan record from the same source is a new notification', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    const out = [...policy.onRecord(record('198.18.0.13', T0, T0, [1]), T0, ALL), ...tickThrough(policy, T0, 15, ALL)];
    out.push(...policy.onRecord(record('198.18.0.13', T0 + 600_000, T0 + 600_000, [2]), T0 + 600_000, ALL), ...tickThrough(policy, T0 + 600_000, 15, ALL));
    assert.equal(out.length, 2);
    assert.notEqual(out[0]!.key, out[1]!.key);
    assert.equal(out[1]!.update, false);
  });

  it('respects "off" and "blocks-only", and a scan that gets blocked later is shown then; a report-only scan says why', () => {
    const off = new NotificationPolicy({ localMinutes: noon });
    off.onRecord(record('198.18.0.14', T0, T0, [1], { outcome: 'blocked' }), T0, OFF);
    assert.deepEqual(tickThrough(off, T0, 30, OFF), []);
    assert.equal(off.pendingBursts, 0);

    const policy = new NotificationPolicy({ localMinutes: noon });
    policy.onRecord(record('198.18.0.15', T0, T0, [1]), T0, BLOCKS_ONLY);
    assert.deepEqual(tickThrough(policy, T0, 5, BLOCKS_ONLY), []);
    policy.onRecord(record('198.18.0.15', T0, T0 + 6_000, [1, 2]), T0 + 6_000, BLOCKS_ONLY);
    assert.deepEqual(tickThrough(policy, T0 + 6_000, 3, BLOCKS_ONLY), [], 'window passed, but nothing blocked yet');
    const out = policy.onRecord(record('198.18.0.15', T0, T0 + 12_000, [1, 2, 3], { outcome: 'blocked' }), T0 + 12_000, BLOCKS_ONLY);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.blocked, true);
    assert.equal(out[0]!.body, '3 probes on 3 ports, TCP 1-3 (SYN scan) within 12 s');

    const neverBlocked = new NotificationPolicy({ localMinutes: noon });
    const reported = record('198.18.0.16', T0, T0, [1], { outcome: 'reported', reason: 'report only (BLOCK_TCP=0)' });
    neverBlocked.onRecord(reported, T0, BLOCKS_ONLY);
    assert.deepEqual(tickThrough(neverBlocked, T0, 30, BLOCKS_ONLY), []);
    assert.equal(neverBlocked.pendingBursts, 0, 'dropped once idle');
    const all = new NotificationPolicy({ localMinutes: noon });
    all.onRecord(reported, T0, ALL);
    assert.deepEqual(
      tickThrough(all, T0, 30, ALL).map((n) => n.body),
      ['1 probe on 1 port, TCP 1 (SYN scan) within 1 s. Not blocked: report only (BLOCK_TCP=0)'],
    );
  });

  it('quiet hours hold notifications back, wrapping midnight, in local time', () => {
    let minutes = 23 * 60 + 30;
    const policy = new NotificationPolicy({ localMinutes: () => minutes });
    const prefs = { ...ALL, quietStart: '22:00', quietEnd: '07:00' };
    policy.onRecord(record('198.18.0.17', T0, T0, [1], { outcome: 'blocked' }), T0, prefs);
    assert.deepEqual(tickThrough(policy, T0, 30, prefs), []);
    assert.equal(policy.pendingBursts, 0);
    minutes = 7 * 60;
    policy.onRecord(record('198.18.0.17', T0 + 400_000, T0 + 400_000, [2], { outcome: 'blocked' }), T0 + 400_000, prefs);
    assert.equal(tickThrough(policy, T0 + 400_000, 30, prefs).length, 1, 'after quiet hours they flow again');
  });

  it('a shown scan that becomes ineligible stops updating and is dropped', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    policy.onRecord(record('198.18.0.18', T0, T0, [1]), T0, ALL);
    assert.equal(tickThrough(policy, T0, 10, ALL).length, 1);
    policy.onRecord(record('198.18.0.18', T0, T0 + 12_000, [1, 2]), T0 + 12_000, ALL);
    assert.deepEqual(tickThrough(policy, T0 + 12_000, 60, OFF), []);
    assert.equal(policy.pendingBursts, 0);
  });

  it('ignored sources never notify; block events adjust the offered actions without notifying', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    assert.deepEqual(policy.onEvent(scan('198.18.0.19', 1, 'ignored'), T0, ALL), []);
    assert.equal(policy.pendingBursts, 0);
    policy.onEvent(scan('198.18.0.20', 1, 'counted'), T0, ALL);
    const first = nextId - 1;
    policy.onRecord(record('198.18.0.20', T0, T0, [1]), T0, ALL);
    assert.deepEqual(policy.onEvent({ id: 999, type: 'block', change: 'added', at: T0, address: '198.18.0.20', reason: 'by hand', until: null }, T0 + 1, ALL), []);
    policy.onEvent({ id: 1000, type: 'block', change: 'added', at: T0, address: '198.18.0.99', reason: 'unrelated', until: null }, T0 + 2, ALL);
    const [note] = tickThrough(policy, T0, 10, ALL);
    assert.equal(note?.blocked, true);
    assert.deepEqual(note?.actions, ['ignore']);
    assert.equal(note?.title, 'Blocked a port scan from 198.18.0.20');
    assert.equal(note?.openEventId, first, 'no triggering event: the first event');
  });

  it("says when a block failed, in the helper's words, and keeps offering Block", () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    policy.onEvent(scan('fd00:5e::c', 1, 'block-failed', { family: 6, kind: 'fin' }), T0, ALL);
    policy.onEvent(scan('fd00:5e::c', 1, 'block-failed', { family: 6, kind: 'xmas' }), T0 + 500, ALL);
    policy.onRecord(record('fd00:5e::c', T0, T0 + 500, [1], { kinds: ['fin', 'xmas'], probes: 2, outcome: 'reported', reason: 'the block failed: nft: no such table' }), T0 + 1000, ALL);
    const [note] = tickThrough(policy, T0, 12, ALL);
    assert.equal(note?.title, 'Port scan from fd00:5e::c: block failed');
    assert.equal(note?.body, '2 probes on 1 port, TCP 1 (FIN scan, XMAS scan) within 1 s. Not blocked: the block failed: nft: no such table');
    assert.deepEqual(note?.actions, ['block', 'ignore']);
  });

  it('folds a flood of scans into one summary notification from the start, refreshed at most every 30 s', () => {
    const policy = new NotificationPolicy({ localMinutes: noon, maxNewPerMinute: 3 });
    const flood = (source: string, at: number, blocked = false) => policy.onRecord(record(source, at, at, [1], blocked ? { outcome: 'blocked' } : {}), at, ALL);
    for (let i = 0; i < 50; i++) flood(`198.19.0.${i}`, T0 + i * 10, i % 2 === 0);
    const out = tickThrough(policy, T0, 11, ALL);
    assert.equal(out.length, 1, 'one summary, no singles before it');
    const aggregate = out[0]!;
    assert.deepEqual(
      { title: aggregate.title, body: aggregate.body, source: aggregate.source, actions: aggregate.actions, openEventId: aggregate.openEventId, update: aggregate.update, blocked: aggregate.blocked },
      { title: 'Port scans from 50 sources', body: '25 of them blocked. Open the dashboard for the list.', source: null, actions: [], openEventId: null, update: false, blocked: true },
    );
    // More flood within 30 s: folded, then one refresh of the same aggregate.
    for (let i = 50; i < 60; i++) flood(`198.19.0.${i}`, T0 + 11_000);
    const more = tickThrough(policy, T0 + 11_000, 40, ALL);
    assert.equal(more.length, 1);
    assert.equal(more[0]!.key, aggregate.key);
    assert.equal(more[0]!.update, true);
    assert.equal(more[0]!.title, 'Port scans from 60 sources');
    assert.equal(more[0]!.blocked, true);
    // A minute of calm later, the next flood starts a fresh aggregate.
    tickThrough(policy, T0 + 52_000, 70, ALL);
    for (let i = 0; i < 5; i++) flood(`198.19.1.${i}`, T0 + 200_000);
    const next = tickThrough(policy, T0 + 200_000, 11, ALL);
    assert.equal(next.length, 1);
    assert.notEqual(next[0]!.key, aggregate.key);
    assert.equal(next[0]!.title, 'Port scans from 5 sources');
    assert.equal(next[0]!.blocked, false);
    // Within the allowance, each scan still has its own notification.
    tickThrough(policy, T0 + 211_000, 130, ALL);
    for (let i = 0; i < 3; i++) flood(`198.19.2.${i}`, T0 + 400_000);
    const few = tickThrough(policy, T0 + 400_000, 11, ALL);
    assert.deepEqual(
      few.map((n) => n.source),
      ['198.19.2.0', '198.19.2.1', '198.19.2.2'],
    );
  });

  it('with a limit of 0 everything is aggregated, and turning notifications off stops its refreshes', () => {
    const policy = new NotificationPolicy({ localMinutes: noon, maxNewPerMinute: 0 });
    policy.onRecord(record('198.19.2.1', T0, T0, [1]), T0, ALL);
    const first = policy.tick(T0 + 10_000, ALL);
    assert.deepEqual(
      first.map((n) => n.title),
      ['Port scans from 1 source'],
    );
    policy.onRecord(record('198.19.2.2', T0 + 10_000, T0 + 10_000, [1]), T0 + 10_000, ALL);
    assert.deepEqual(policy.tick(T0 + 20_000, ALL), [], 'folded, but the aggregate was refreshed less than 30 s ago');
    assert.deepEqual(tickThrough(policy, T0 + 21_000, 60, OFF), []);
    const back = tickThrough(policy, T0 + 82_000, 1, ALL);
    assert.deepEqual(
      back.map((n) => [n.title, n.update]),
      [['Port scans from 2 sources', true]],
      'the count caught up when allowed again',
    );
  });

  it('events alone raise nothing: probes are folded by the helper, not here', () => {
    const policy = new NotificationPolicy({ localMinutes: noon });
    for (let port = 1; port <= 100; port++) policy.onEvent(scan('198.18.0.21', port, 'blocked'), T0 + port, ALL);
    assert.deepEqual(tickThrough(policy, T0, 60, ALL), []);
  });
});
