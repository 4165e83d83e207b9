// Answering a notification, for real: Xvfb, a private D-Bus session bus and dunst; a real
// helper in a lab namespace (report-only, so the scan is not blocked by itself); a real nmap
// scan. The app's own path (HelperClient events and scan records -> NotificationPolicy -> the D-Bus notifier
// -> handleNotificationOutcome) must raise exactly one notification with Block / Ignore /
// Open, and choosing Block in dunst's menu (dunstctl context) must block the scanner in
// nftables. A forged ActionInvoked from another bus client must do nothing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DbusNotifier, notifyArgs, outcomeOfAction, parseBusAddress } from '../../main/dbus-notifier.js';
import { raiseNotification, type NotificationOutcome } from '../../main/desktop-notifier.js';
import { handleNotificationOutcome } from '../../main/notification-actions.js';
import { NotificationPolicy, type NotificationPreferences, type NotificationRequest } from '../../main/notification-policy.js';
import { trayAvailable } from '../../main/startup.js';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText, startTcpService } from '../support/helper-config.js';
import { startDesktopSession, type DesktopSession } from '../support/desktop-session.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { until, untilValue } from '../support/wait.js';

const run = promisify(execFile);
const TABLE = `psna${process.pid}`.slice(0, 30);
const PREFS: NotificationPreferences = { notifications: 'all', quietStart: '00:00', quietEnd: '00:00' };
const SERVICE_PORT = 8080;

interface DunstEntry {
  readonly id: { data: number };
  readonly summary: { data: string };
  readonly body: { data: string };
}

describe('a real scan raises one notification whose Block button blocks the scanner (Xvfb + D-Bus + dunst)', { timeout: 240_000 }, () => {
  let dir: string;
  let desktop: DesktopSession;
  let lab: Lab<'target' | 'scanner'>;
  let daemon: DaemonProcess;
  let service: ReturnType<Lab['spawn']>;
  let helper: HelperClient;
  let notifier: DbusNotifier;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-notify-act-'));
    // dunst's context menu is a dmenu-style program: ours records the menu and picks Block.
    const picker = join(dir, 'pick-block');
    await writeFile(picker, `#!/bin/sh\ntee ${join(dir, 'menu')} | grep -m1 -i 'block'\n`, { mode: 0o755 });
    await writeFile(join(dir, 'dunstrc'), `[global]\n    dmenu = ${picker}\n`);
    desktop = await startDesktopSession(dir, join(dir, 'dunstrc'));

    lab = await createLab(['target', 'scanner']);
    await writeFile(join(dir, 'ignore'), '# notification test\n');
    // Report only: the scan is seen and stored, and nothing blocks the scanner but the user's answer.
    await writeFile(join(dir, 'portsentry.conf'), helperConfigText(dir, { NFT_TABLE: TABLE, TCP_PORTS: '1,11,15,79,111', BLOCK_TCP: '0' }, '# notification actions test'));
    service = await startTcpService(lab, lab.hosts.target, SERVICE_PORT);
    daemon = startDaemon(lab, lab.hosts.target, ['-c', join(dir, 'portsentry.conf'), '-stcp']);
    await daemon.waitFor('Control socket listening on');
    helper = await HelperClient.connect(join(dir, 'run', 'helper.sock'));
    notifier = await DbusNotifier.connect(desktop.busAddress);
  });

  after(async () => {
    notifier?.close();
    helper?.close();
    service?.kill();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    await desktop?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('one notification for a whole nmap scan, with Block / Ignore / Open; Block in dunst blocks in nftables; a forged answer does nothing', async () => {
    const { target, scanner } = lab.hosts;
    // The same bus tells the app whether a tray host runs (none here: the dashboard would open by itself).
    assert.equal(await trayAvailable('linux', (name) => notifier.nameHasOwner(name)), false);
    assert.equal(await notifier.nameHasOwner('org.freedesktop.Notifications'), true);
    const policy = new NotificationPolicy({ windowMs: 2000, localMinutes: () => 12 * 60 });
    const raised: NotificationRequest[] = [];
    const answered: Array<Promise<void>> = [];
    const outcomes: NotificationOutcome[] = [];
    const show = (request: NotificationRequest) => {
      raised.push(request);
      answered.push(
        raiseNotification(request, { dbus: async () => notifier }).then(async (outcome) => {
          outcomes.push(outcome);
          await handleNotificationOutcome(request, outcome, { helper, openDashboard: () => undefined, log: (m) => assert.fail(m) });
        }),
      );
    };
    const unsubscribe = await helper.subscribe((event) => policy.onEvent(event, Date.now(), PREFS).forEach(show));
    const unsubscribeScans = await helper.subscribeScans((record) => policy.onRecord(record, Date.now(), PREFS).forEach(show));
    const ticker = setInterval(() => policy.tick(Date.now(), PREFS).forEach(show), 200);
    try {
      await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79,111', target.v4]);
      await until('the notification on screen', async () => (await desktop.dunstctl(['count', 'displayed'])) === '1');
      // The scan's burst is over (nothing pending) and still only one notification was raised.
      await until('the burst to finish', async () => policy.pendingBursts === 0);
      assert.equal(raised.length, 1, JSON.stringify(raised));
      assert.equal(await desktop.dunstctl(['count', 'displayed']), '1');
      const [request] = raised;
      assert.equal(request!.title, `Port scan from ${scanner.v4}`);
      // Report only: the notification says why it was not blocked, in the helper's words.
      // From the scan record: the ports as runs, and why it was not blocked, in the helper's words.
      assert.match(request!.body, /^\d+ probes? on 5 ports, TCP 1,11,15,79,111 \(SYN scan\) within \d+ s\. Not blocked: report only \(BLOCK_TCP=0\)$/);
      assert.deepEqual(request!.actions, ['block', 'ignore']);
      assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), true, 'report only: not blocked yet');

      // Another client on the bus forges "Ignore" then "Block" for every plausible id: ignored.
      // Judged after dunst's real answer below, which the bus delivers after these (a barrier,
      // not a sleep): had a forged one counted, the first outcome would be "ignore".
      for (let id = 1; id <= 5; id++) {
        for (const action of ['ignore', 'block']) {
          await run('dbus-send', ['--session', '--type=signal', '/org/freedesktop/Notifications', 'org.freedesktop.Notifications.ActionInvoked', `uint32:${id}`, `string:${action}`], {
            env: desktop.env,
          });
        }
      }

      // The user opens dunst's menu and picks Block.
      await desktop.dunstctl(['context']);
      await until('the answer', async () => outcomes.length === 1);
      assert.deepEqual(outcomes, [{ kind: 'action', action: 'block' }], 'a forged signal is not an answer');
      await Promise.all(answered);
      const menu = await readFile(join(dir, 'menu'), 'utf8');
      for (const label of ['Block', 'Ignore', 'Open']) assert.match(menu, new RegExp(label), `the menu offers ${label}: ${menu}`);
      assert.equal(menu.match(/Open/g)?.length, 1, `one Open, not two: ${menu}`);
      await until('the block in nftables', async () => new RegExp(scanner.v4.replace(/\./g, '\\.')).test(await blockedSetsText(lab, target, TABLE)));
      assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), false, 'the scanner is really blocked');
      const blocks = (await helper.call('blocks.list', {})).blocks;
      assert.equal(blocks.find((b) => b.address === scanner.v4)?.reason, 'blocked from a notification');
    } finally {
      clearInterval(ticker);
      unsubscribe();
      unsubscribeScans();
    }
  });

  it("after dunst restarts, the app follows the new service: a scan's Block still blocks in nftables, and the notification is replaced by the outcome", async () => {
    const { target, scanner } = lab.hosts;
    const blockedHere = async () => new RegExp(`\\b${scanner.v4.replace(/\./g, '\\.')}\\b`).test(await blockedSetsText(lab, target, TABLE));
    await helper.call('unblock', { address: scanner.v4 });
    await until('the scanner unblocked', async () => !(await blockedHere()));
    await desktop.dunstctl(['close-all']);
    // The notification service goes away and comes back under a new unique name, while the notifier stays connected.
    await desktop.restartDunst();
    const policy = new NotificationPolicy({ windowMs: 2000, localMinutes: () => 12 * 60 });
    const outcomes: Array<{ request: NotificationRequest; outcome: NotificationOutcome }> = [];
    const answered: Array<Promise<void>> = [];
    const raisedHere: NotificationRequest[] = [];
    const show = (request: NotificationRequest): void => {
      raisedHere.push(request);
      answered.push(
        raiseNotification(request, { dbus: async () => notifier }).then(async (outcome) => {
          outcomes.push({ request, outcome });
          await handleNotificationOutcome(request, outcome, { helper, openDashboard: () => undefined, log: (m) => assert.fail(m), show });
        }),
      );
    };
    const unsubscribe = await helper.subscribe((event) => policy.onEvent(event, Date.now(), PREFS).forEach(show));
    const unsubscribeScans = await helper.subscribeScans((record) => policy.onRecord(record, Date.now(), PREFS).forEach(show));
    const ticker = setInterval(() => policy.tick(Date.now(), PREFS).forEach(show), 200);
    try {
      await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79,111', target.v4]);
      await until('the notification on screen', async () => (await desktop.dunstctl(['count', 'displayed'])) === '1');
      await desktop.dunstctl(['context']);
      await until('the answer', async () => outcomes.some((o) => o.outcome.kind === 'action'));
      await until('the block in nftables', blockedHere);
      // The outcome replaces the answered notification: it says Blocked and offers no Block.
      await until('the outcome on screen', async () => (await desktop.dunstctl(['count', 'displayed'])) === '1');
      await desktop.dunstctl(['close-all']);
      const entries = await untilValue('the history', async () => {
        const parsed = JSON.parse(await desktop.dunstctl(['history'])) as { data: DunstEntry[][] };
        const list = parsed.data[0] ?? [];
        return list.some((e) => e.summary.data.startsWith('Blocked ')) ? list : undefined;
      });
      const outcome = entries.find((e) => e.summary.data === `Blocked ${scanner.v4}`);
      assert.ok(outcome !== undefined, JSON.stringify(entries.map((e) => e.summary.data)));
      assert.match(outcome.body.data, /^Blocked from this notification, until you unblock it\.$/);
      // What the app raised in its place: the same key (so replaces_id), no Block, Open only.
      const answered = outcomes.find((o) => o.outcome.kind === 'action')!.request;
      const replacement = raisedHere.at(-1)!;
      assert.equal(replacement.key, answered.key);
      assert.equal(replacement.title, `Blocked ${scanner.v4}`);
      assert.deepEqual(notifyArgs(replacement, 0).actions, ['default', 'Open'], 'only Open is left');
      const scan = entries.find((e) => e.summary.data === `Port scan from ${scanner.v4}`);
      assert.ok(scan === undefined || scan.id.data === outcome.id.data, "the outcome took the scan notification's place (replaces_id)");
    } finally {
      clearInterval(ticker);
      unsubscribe();
      unsubscribeScans();
      await Promise.all(answered);
    }
  });
});

describe('the D-Bus notification call', () => {
  const request: NotificationRequest = {
    key: 'scan:198.18.0.11:1',
    update: false,
    title: 'Port scan from 198.18.0.11 <b>x</b>',
    body: '5 probes on 5 ports (SYN scan) within 1 s',
    source: '198.18.0.11',
    blocked: false,
    actions: ['block', 'ignore'],
    openEventId: 3,
  };

  it('offers the actions the request allows plus Open, with an icon, urgency and category; no markup gets through', () => {
    const args = notifyArgs(request, 7, '/opt/icon.png');
    assert.deepEqual(args.actions, ['default', 'Open', 'block', 'Block', 'ignore', 'Ignore'], 'one Open: the default action');
    assert.equal(args.replacesId, 7);
    assert.equal(args.icon, '/opt/icon.png');
    assert.equal(args.summary, 'Port scan from 198.18.0.11 b x /b', 'no markup reaches the daemon');
    assert.deepEqual(Object.fromEntries(args.hints), {
      category: ['s', 'network.security'],
      urgency: ['y', 2],
      'desktop-entry': ['s', 'portsentry-desktop'],
      'x-dunst-stack-tag': ['s', 'scan:198.18.0.11:1'],
      'image-path': ['s', '/opt/icon.png'],
    });
    assert.deepEqual(notifyArgs({ ...request, blocked: true, actions: ['ignore'] }, 0).actions, ['default', 'Open', 'ignore', 'Ignore']);
    assert.deepEqual(notifyArgs({ ...request, source: null, actions: [] }, 0).actions, ['default', 'Open'], 'the summary of a flood can only be opened');
  });

  it('maps answers and parses bus addresses', () => {
    assert.deepEqual(outcomeOfAction('block'), { kind: 'action', action: 'block' });
    assert.deepEqual(outcomeOfAction('ignore'), { kind: 'action', action: 'ignore' });
    assert.deepEqual(outcomeOfAction('default'), { kind: 'clicked' });
    assert.deepEqual(outcomeOfAction('open'), { kind: 'clicked' });
    assert.deepEqual(outcomeOfAction('anything else'), { kind: 'clicked' });
    assert.deepEqual(parseBusAddress('unix:path=/run/user/1000/bus'), { path: '/run/user/1000/bus' });
    assert.deepEqual(parseBusAddress('unix:abstract=/tmp/dbus-AbC,guid=123'), { abstract: '/tmp/dbus-AbC' });
    assert.deepEqual(parseBusAddress('tcp:host=x,port=1;unix:path=/tmp/a%20b'), { path: '/tmp/a b' });
    assert.equal(parseBusAddress('unix:path=relative'), null);
    assert.equal(parseBusAddress('tcp:host=localhost,port=1'), null);
    assert.equal(parseBusAddress(undefined), null);
    assert.equal(parseBusAddress('garbage'), null);
  });

  it('an answer to a notification of a flood names no source: Block does nothing, Open opens', async () => {
    const calls: string[] = [];
    const deps = {
      helper: { call: async (method: string) => void calls.push(method) } as never,
      openDashboard: (id: number | undefined) => void calls.push(`open ${id}`),
      log: (m: string) => void calls.push(`log ${m}`),
    };
    await handleNotificationOutcome({ ...request, source: null, openEventId: null }, { kind: 'action', action: 'block' }, deps);
    await handleNotificationOutcome({ ...request, source: null, openEventId: null }, { kind: 'clicked' }, deps);
    await handleNotificationOutcome(request, { kind: 'action', action: 'ignore' }, deps);
    await handleNotificationOutcome(request, { kind: 'failed', message: 'no daemon' }, deps);
    assert.deepEqual(calls, ['open undefined', 'ignore.add', 'log notification failed: no daemon']);
  });

  it('after an answer, the notification is replaced by its outcome under the same key, offering only Open; a refusal says why', async () => {
    const shown: NotificationRequest[] = [];
    const refusing = {
      helper: { call: async () => Promise.reject(new Error("198.18.0.11 is this host's gateway and is never blocked")) } as never,
      openDashboard: () => undefined,
      log: () => undefined,
      show: (r: NotificationRequest) => void shown.push(r),
    };
    await handleNotificationOutcome(request, { kind: 'action', action: 'block' }, refusing);
    assert.deepEqual(shown, [
      {
        key: request.key,
        update: true,
        source: request.source,
        actions: [],
        openEventId: 3,
        blocked: false,
        title: 'Not blocked: 198.18.0.11',
        body: "The helper refused: 198.18.0.11 is this host's gateway and is never blocked",
      },
    ]);
    shown.length = 0;
    await handleNotificationOutcome(
      request,
      { kind: 'action', action: 'block' },
      { ...refusing, helper: { call: async () => ({ address: '198.18.0.11', until: Date.UTC(2030, 0, 2, 3, 4) }) } as never },
    );
    assert.equal(shown[0]!.title, 'Blocked 198.18.0.11');
    assert.equal(shown[0]!.body, 'Blocked from this notification, until 2030-01-02 03:04 UTC.');
    assert.deepEqual(notifyArgs(shown[0]!, 9).actions, ['default', 'Open']);
  });
});
