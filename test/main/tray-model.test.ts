// The tray's icon, tooltip and menu in every helper state, and the recent-scanner list it is
// built from.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HelperState } from '../../shared/desktop-api.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { recordScannerEvent, type RecentScanner } from '../../main/recent-scanners.js';
import { relativeTime } from '../../main/relative-time.js';
import { trayModel, type TrayMenuItem } from '../../main/tray-model.js';

const NOW = 1_800_000_000_000;
const connected: HelperState = { kind: 'connected', paused: false };

function scan(id: number, source: string, at: number, action: Extract<StoredEvent, { type: 'scan' }>['action'] = 'counted', extra: Partial<StoredEvent> = {}): StoredEvent {
  return { id, type: 'scan', at, source, family: source.includes(':') ? 6 : 4, port: 20 + id, protocol: 'tcp', kind: 'syn', mode: 'stcp', action, ...extra } as StoredEvent;
}

function labels(menu: readonly TrayMenuItem[]): string[] {
  return menu.map((item) => (item.type === 'separator' ? '---' : item.label));
}

function item(menu: readonly TrayMenuItem[], label: string | RegExp) {
  const found = menu.find((i) => i.type === 'item' && (typeof label === 'string' ? i.label === label : label.test(i.label)));
  assert.ok(found !== undefined && found.type === 'item', `menu has ${String(label)}: ${labels(menu).join(' | ')}`);
  return found;
}

describe('recent scanners', () => {
  it('keeps the last N distinct sources, newest first, with their blocked state', () => {
    let list: RecentScanner[] = [];
    list = recordScannerEvent(list, scan(1, '198.18.0.11', NOW - 5000));
    list = recordScannerEvent(list, scan(2, '198.18.0.12', NOW - 4000));
    list = recordScannerEvent(list, scan(3, '198.18.0.11', NOW - 3000, 'blocked', { resolvedName: 'scanner.example' }));
    assert.deepEqual(
      list.map((s) => [s.source, s.probes, s.blocked, s.lastEventId]),
      [
        ['198.18.0.11', 2, true, 3],
        ['198.18.0.12', 1, false, 2],
      ],
    );
    assert.equal(list[0]!.resolvedName, 'scanner.example');
    // The name sticks when a later event lacks it; an ignored source is not a scanner.
    list = recordScannerEvent(list, scan(4, '198.18.0.11', NOW - 2000, 'already-blocked'));
    assert.equal(list[0]!.resolvedName, 'scanner.example');
    assert.equal(recordScannerEvent(list, scan(5, '198.18.0.99', NOW, 'ignored')).length, 2);
    // Block changes flip the flag of listed sources only.
    const unblocked = recordScannerEvent(list, { id: 6, type: 'block', change: 'removed', at: NOW, address: '198.18.0.11', reason: 'by hand', until: null });
    assert.equal(unblocked[0]!.blocked, false);
    const other = recordScannerEvent(list, { id: 7, type: 'block', change: 'added', at: NOW, address: '198.18.0.50', reason: 'by hand', until: null });
    assert.deepEqual(
      other.map((s) => s.source),
      ['198.18.0.11', '198.18.0.12'],
    );
    // An out-of-order older event does not move lastSeen back.
    const older = recordScannerEvent(list, scan(1, '198.18.0.11', NOW - 60_000));
    assert.equal(older[0]!.lastSeen, NOW - 2000);
    // The limit.
    let many: RecentScanner[] = [];
    for (let i = 0; i < 10; i++) many = recordScannerEvent(many, scan(i + 1, `198.18.1.${i}`, NOW + i), 3);
    assert.deepEqual(
      many.map((s) => s.source),
      ['198.18.1.9', '198.18.1.8', '198.18.1.7'],
    );
    assert.deepEqual(recordScannerEvent(many, scan(20, '198.18.2.1', NOW), -1), []);
  });
});

describe('tray model', () => {
  const prefs = { startAtLogin: false };

  it('armed, with no scans: a calm icon and a menu with everything but scanners', () => {
    const model = trayModel({ helper: connected, scanners: [], preferences: prefs, now: NOW });
    assert.equal(model.icon, 'armed');
    assert.equal(model.tooltip, 'PortSentry: protection active');
    assert.deepEqual(labels(model.menu), [
      'Protection active',
      '---',
      'No scans seen yet',
      '---',
      'Pause for 15 minutes',
      'Pause for 1 hour',
      'Pause until resumed',
      'Open dashboard',
      'Settings…',
      'Start at login',
      '---',
      'Quit PortSentry',
    ]);
    assert.deepEqual(item(model.menu, 'Pause until resumed'), { type: 'item', label: 'Pause until resumed', enabled: true, action: { id: 'pause' } });
    assert.deepEqual(item(model.menu, 'Pause for 15 minutes').action, { id: 'pause', durationSeconds: 900 });
    assert.deepEqual(item(model.menu, 'Pause for 1 hour').action, { id: 'pause', durationSeconds: 3600 });
    assert.deepEqual(item(model.menu, 'Start at login'), { type: 'item', label: 'Start at login', enabled: true, checked: false, action: { id: 'set-start-at-login', enabled: true } });
    assert.deepEqual(item(model.menu, 'Quit PortSentry').action, { id: 'quit' });
    assert.deepEqual(item(model.menu, 'Open dashboard').action, { id: 'open-dashboard' });
    assert.deepEqual(item(model.menu, 'Settings…').action, { id: 'open-settings' });
    assert.equal(item(model.menu, 'No scans seen yet').enabled, false);
  });

  it('alert for N seconds after a scan, then armed again; per-scanner Block / Unblock', () => {
    const scanners: RecentScanner[] = [
      { source: '198.18.0.11', resolvedName: 'scanner.example', lastSeen: NOW - 5_000, probes: 9, blocked: true, lastEventId: 9 },
      { source: 'fd00:5e::c', lastSeen: NOW - 90_000, probes: 1, blocked: false, lastEventId: 3 },
    ];
    const fresh = trayModel({ helper: connected, scanners, preferences: { startAtLogin: true }, now: NOW, alertSeconds: 10 });
    assert.equal(fresh.icon, 'alert');
    assert.equal(fresh.tooltip, 'PortSentry: protection active\nScanned just now by 198.18.0.11 (blocked), 5 s ago');
    assert.deepEqual(item(fresh.menu, /^Unblock 198\.18\.0\.11/), {
      type: 'item',
      label: 'Unblock 198.18.0.11 (scanner.example) · blocked, 5 s ago',
      enabled: true,
      action: { id: 'unblock', address: '198.18.0.11' },
    });
    assert.deepEqual(item(fresh.menu, /^Block fd00/), { type: 'item', label: 'Block fd00:5e::c · 1 min ago', enabled: true, action: { id: 'block', address: 'fd00:5e::c' } });
    assert.equal(item(fresh.menu, 'Recent scanners').enabled, false);
    assert.deepEqual(item(fresh.menu, 'Start at login'), { type: 'item', label: 'Start at login', enabled: true, checked: true, action: { id: 'set-start-at-login', enabled: false } });

    const later = trayModel({ helper: connected, scanners, preferences: prefs, now: NOW + 5_000, alertSeconds: 10 });
    assert.equal(later.icon, 'armed', 'exactly alertSeconds after the scan it is over');
    assert.match(later.tooltip, /Last scan by 198\.18\.0\.11 \(blocked\), 10 s ago/);
    const unblockedLatest = trayModel({ helper: connected, scanners: [{ ...scanners[0]!, blocked: false }], preferences: prefs, now: NOW });
    assert.equal(unblockedLatest.icon, 'alert', 'the default alert time is a minute');
    assert.match(unblockedLatest.tooltip, /\(not blocked\)/);
    // A scan timestamp from the future (clock skew) does not pin the icon to alert.
    assert.equal(trayModel({ helper: connected, scanners: [{ ...scanners[0]!, lastSeen: NOW + 1000 }], preferences: prefs, now: NOW }).icon, 'armed');
  });

  it('paused: the paused icon, and Resume instead of Pause', () => {
    const scanners: RecentScanner[] = [{ source: '198.18.0.11', lastSeen: NOW, probes: 1, blocked: false, lastEventId: 1 }];
    const model = trayModel({ helper: { kind: 'connected', paused: true }, scanners, preferences: prefs, now: NOW });
    assert.equal(model.icon, 'paused', 'paused wins over a fresh scan');
    assert.equal(model.menu[0]!.type === 'item' && model.menu[0]!.label, 'Protection paused');
    assert.deepEqual(item(model.menu, 'Resume protection').action, { id: 'resume' });
    assert.ok(!labels(model.menu).some((label) => label.startsWith('Pause')));
    assert.match(model.tooltip, /^PortSentry: protection paused\n/);
    const timed = trayModel({ helper: { kind: 'connected', paused: true, pausedUntil: NOW + 14 * 60_000 + 5_000 }, scanners: [], preferences: prefs, now: NOW });
    assert.equal(timed.menu[0]!.type === 'item' && timed.menu[0]!.label, 'Protection paused, resumes in 15 min');
    assert.equal(timed.tooltip, 'PortSentry: protection paused, resumes in 15 min');
    const hour = trayModel({ helper: { kind: 'connected', paused: true, pausedUntil: NOW + 65 * 60_000 }, scanners: [], preferences: prefs, now: NOW });
    assert.equal(hour.menu[0]!.type === 'item' && hour.menu[0]!.label, 'Protection paused, resumes in 1 h 5 min');
  });

  it('unreachable and connecting: grey icon, helper actions disabled, install offered only when not running', () => {
    const scanners: RecentScanner[] = [{ source: '198.18.0.11', lastSeen: NOW, probes: 1, blocked: false, lastEventId: 1 }];
    const reasons = {
      'not-running': 'not running',
      'permission-denied': 'permission denied (join the portsentry group)',
      timeout: 'not answering',
      protocol: 'incompatible version',
      disconnected: 'connection lost',
    } as const;
    for (const [reason, text] of Object.entries(reasons) as [keyof typeof reasons, string][]) {
      const model = trayModel({ helper: { kind: 'unreachable', reason, message: 'x' }, scanners, preferences: prefs, now: NOW });
      assert.equal(model.icon, 'unreachable');
      assert.equal(model.tooltip, `PortSentry: helper ${text}`, 'no scan line while the helper is away');
      assert.equal(item(model.menu, `Helper unreachable: ${text}`).enabled, false);
      for (const label of ['Pause for 15 minutes', 'Pause for 1 hour', 'Pause until resumed']) assert.equal(item(model.menu, label).enabled, false);
      assert.equal(item(model.menu, /^Block 198/).enabled, false);
      assert.equal(item(model.menu, 'Open dashboard').enabled, true);
      assert.equal(labels(model.menu).includes('Install or start the helper…'), reason === 'not-running');
    }
    const installing = trayModel({ helper: { kind: 'unreachable', reason: 'not-running', message: 'x' }, scanners: [], preferences: prefs, now: NOW });
    assert.deepEqual(item(installing.menu, 'Install or start the helper…').action, { id: 'install-helper' });
    const connecting = trayModel({ helper: { kind: 'connecting' }, scanners, preferences: prefs, now: NOW });
    assert.equal(connecting.icon, 'unreachable');
    assert.equal(connecting.tooltip, 'PortSentry: connecting to the helper');
    assert.equal(item(connecting.menu, 'Connecting to the helper…').enabled, false);
  });

  it('not protecting or a degraded firewall: its own icon, the reason in the status line and tooltip, and an item that leads to the fix', () => {
    const prefs = { startAtLogin: false };
    const recent = recordScannerEvent([], scan(1, '198.18.0.11', NOW - 1000));
    const off = trayModel({ helper: { ...connected, notProtecting: 'the ignore list covers every IPv4 and IPv6 address: every scanner is ignored' }, scanners: recent, preferences: prefs, now: NOW });
    assert.equal(off.icon, 'unprotected', 'not "alert" or "armed": nothing is being blocked');
    assert.equal(item(off.menu, /^Not protecting: the ignore list covers every/).enabled, false);
    assert.deepEqual(item(off.menu, 'Turn protection back on…').action, { id: 'open-settings' });
    assert.match(off.tooltip, /^PortSentry: Not protecting: the ignore list covers every/);
    const degraded = trayModel({ helper: { ...connected, notProtecting: null, degraded: 'blocked4 is missing from the kernel' }, scanners: [], preferences: prefs, now: NOW });
    assert.equal(degraded.icon, 'unprotected');
    assert.ok(labels(degraded.menu).includes('Firewall degraded: blocked4 is missing from the kernel'));
    assert.deepEqual(item(degraded.menu, 'Show the firewall problem…').action, { id: 'open-dashboard' });
    // Paused says paused (Resume is its fix), not "not protecting".
    const paused = trayModel({ helper: { kind: 'connected', paused: true, notProtecting: 'protection is paused' }, scanners: [], preferences: prefs, now: NOW });
    assert.equal(paused.icon, 'paused');
    assert.ok(!labels(paused.menu).includes('Turn protection back on…'));
    const fine = trayModel({ helper: { ...connected, notProtecting: null, degraded: null }, scanners: [], preferences: prefs, now: NOW });
    assert.equal(fine.icon, 'armed');
    assert.ok(labels(fine.menu).includes('Protection active'));
    const stopped = trayModel({
      helper: { kind: 'unreachable', reason: 'not-running', message: 'ENOENT' },
      scanners: [],
      preferences: prefs,
      now: NOW,
      stoppedBecause: 'exit status 78, systemd: exit-code',
    });
    assert.deepEqual(labels(stopped.menu).slice(0, 3), ['Helper unreachable: not running', 'Stopped: exit status 78, systemd: exit-code', 'Install or start the helper…']);
    const denied = trayModel({ helper: { kind: 'unreachable', reason: 'permission-denied', message: 'EACCES' }, scanners: [], preferences: prefs, now: NOW });
    assert.deepEqual(item(denied.menu, 'Get access to the helper…').action, { id: 'open-dashboard' });
  });

  it('formats relative times', () => {
    assert.deepEqual(
      [0, 59_000, 60_000, 3_599_000, 3_600_000, 86_399_000, 86_400_000 * 3, -5_000].map((d) => relativeTime(NOW - d, NOW)),
      ['0 s ago', '59 s ago', '1 min ago', '59 min ago', '1 h ago', '23 h ago', '3 d ago', '0 s ago'],
    );
  });
});
