// A real desktop notification: Xvfb, a private D-Bus session bus and dunst, then the app's
// own notification call (node-notifier -> notify-send) and dunst's history read back with
// dunstctl. Also: a refresh under the same key replaces the first notification (stack tag),
// hostile text is flattened before node-notifier's shell sees it, and the option and
// response mapping of the platforms that support actions.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { APP_USER_MODEL_ID } from '../../main/app-identity.js';
import { interpretResponse, notifierOptions, plainText, raiseNotification, supportsActions, type NodeNotifier } from '../../main/desktop-notifier.js';
import type { NotificationRequest } from '../../main/notification-policy.js';
import { startDesktopSession, type DesktopSession } from '../support/desktop-session.js';
import { until, untilValue } from '../support/wait.js';

const run = promisify(execFile);

const REQUEST: NotificationRequest = {
  key: 'scan:198.18.0.11:1',
  update: false,
  title: 'Blocked a port scan from 198.18.0.11',
  body: '1000 probes on 1000 ports (syn) within 3 s',
  source: '198.18.0.11',
  blocked: true,
  actions: ['ignore'],
  openEventId: 42,
};

interface DunstEntry {
  summary: { data: string };
  body: { data: string };
  appname: { data: string };
  category: { data: string };
  urgency?: { data: string };
}

describe('a real desktop notification (Xvfb + D-Bus + dunst)', { timeout: 30_000 }, () => {
  let dir: string;
  let desktop: DesktopSession;
  let savedEnv: { DISPLAY?: string; DBUS_SESSION_BUS_ADDRESS?: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-notify-'));
    desktop = await startDesktopSession(dir);
    // node-notifier runs notify-send with this process's environment.
    savedEnv = { DISPLAY: process.env.DISPLAY, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS };
    process.env.DISPLAY = desktop.env.DISPLAY;
    process.env.DBUS_SESSION_BUS_ADDRESS = desktop.env.DBUS_SESSION_BUS_ADDRESS;
  });

  after(async () => {
    for (const [key, value] of Object.entries(savedEnv ?? {})) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await desktop?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('raises the notification through node-notifier and dunst shows the summary and body; a refresh replaces it', async () => {
    // node-notifier's path (the fallback without a session bus); the D-Bus path is in notification-actions.test.ts.
    const outcome = await raiseNotification(REQUEST, { dbus: null });
    assert.deepEqual(outcome, { kind: 'shown' });
    await until('dunst shows it', async () => (await desktop.dunstctl(['count', 'displayed'])) === '1');
    // A refresh of the same burst: same key, so dunst replaces instead of stacking.
    await raiseNotification({ ...REQUEST, update: true, body: '1200 probes on 1000 ports (syn) within 40 s, still going' }, { dbus: null });
    // Judged below from dunst's history, not after a sleep: dunst handles the refresh before the
    // next notification and the close-all, so a stacked first one would be in the history too.
    // Hostile text (a resolved name cannot carry this, but belt and braces) reaches dunst flattened, not executed.
    const marker = join(dir, 'pwned');
    await raiseNotification({ ...REQUEST, key: 'scan:x:2', title: `Port scan from $(touch ${marker}) \`touch ${marker}\``, body: '"; touch x; "' }, { dbus: null });
    await desktop.dunstctl(['close-all']);
    const history = await untilValue('the history has both', async () => {
      const parsed = JSON.parse(await desktop.dunstctl(['history'])) as { data: DunstEntry[][] };
      const entries = parsed.data[0] ?? [];
      return entries.length >= 2 ? entries : undefined;
    });
    const ours = history.find((e) => e.summary.data === REQUEST.title);
    assert.ok(ours !== undefined, JSON.stringify(history.map((e) => e.summary.data)));
    assert.equal(ours.body.data, '1200 probes on 1000 ports (syn) within 40 s, still going', 'the refreshed text, not the first');
    assert.equal(ours.appname.data, 'PortSentry');
    assert.equal(ours.category.data, 'network.security');
    assert.equal(history.filter((e) => e.summary.data === REQUEST.title).length, 1, 'the first was replaced, not kept');
    const hostile = history.find((e) => e.summary.data.startsWith('Port scan from'));
    assert.ok(hostile !== undefined);
    assert.doesNotMatch(hostile.summary.data + hostile.body.data, /[$`"]/);
    await assert.rejects(run('test', ['-e', marker]), 'nothing was executed');
  });
});

describe('notifier options and responses', () => {
  it('offers actions and waits for the user where the backend supports it, tags for replacement elsewhere', () => {
    assert.equal(supportsActions('darwin'), true);
    assert.equal(supportsActions('win32'), true);
    assert.equal(supportsActions('linux'), false);
    assert.deepEqual(notifierOptions({ ...REQUEST, actions: ['block', 'ignore'] }, 'darwin', '/icon.png'), {
      title: REQUEST.title,
      message: REQUEST.body,
      icon: '/icon.png',
      actions: ['Block', 'Ignore'],
      wait: true,
      timeout: 30,
      id: 'scan:198.18.0.11:1',
    });
    const aggregate = notifierOptions({ ...REQUEST, actions: [] }, 'win32');
    assert.equal(aggregate.actions, undefined);
    assert.equal(aggregate.appID, APP_USER_MODEL_ID, "Windows: SnoreToast attributes the toast to the app's AppUserModelID");
    assert.deepEqual(notifierOptions({ ...REQUEST, blocked: false }, 'linux'), {
      title: REQUEST.title,
      message: REQUEST.body,
      'app-name': 'PortSentry',
      urgency: 'critical',
      category: 'network.security',
      hint: 'string:x-dunst-stack-tag:scan:198.18.0.11:1',
    });
    assert.equal(notifierOptions(REQUEST, 'linux').urgency, 'normal');
    assert.equal(plainText('a\u2028b\n$c`d"e\'f…g', 100), 'a b c d e f g');
    assert.equal(plainText('x'.repeat(500), 10), 'x'.repeat(10));
  });

  it('maps clicks and buttons back to what the user did', () => {
    assert.deepEqual(interpretResponse('activate', { activationType: 'actionClicked', activationValue: 'Block' }), { kind: 'action', action: 'block' });
    assert.deepEqual(interpretResponse('ignore', undefined), { kind: 'action', action: 'ignore' });
    assert.deepEqual(interpretResponse('activate', { activationType: 'contentsClicked' }), { kind: 'clicked' });
    assert.deepEqual(interpretResponse(undefined, { activationType: 'clicked' }), { kind: 'clicked' });
    assert.deepEqual(interpretResponse('timeout', { activationType: 'timeout' }), { kind: 'shown' });
    assert.deepEqual(interpretResponse(undefined, undefined), { kind: 'shown' });
  });

  it('never rejects: errors from the backend become a "failed" outcome', async () => {
    const failing: NodeNotifier = { notify: (_o, cb) => cb(new Error('no notify-send')) };
    assert.deepEqual(await raiseNotification(REQUEST, { notifier: failing, platform: 'linux' }), { kind: 'failed', message: 'no notify-send' });
    const throwing: NodeNotifier = {
      notify: () => {
        throw new Error('sync');
      },
    };
    assert.deepEqual(await raiseNotification(REQUEST, { notifier: throwing }), { kind: 'failed', message: 'sync' });
    const stringThrow: NodeNotifier = {
      notify: () => {
        throw 'odd';
      },
    };
    assert.deepEqual(await raiseNotification(REQUEST, { notifier: stringThrow }), { kind: 'failed', message: 'odd' });
    const clicked: NodeNotifier = { notify: (_o, cb) => cb(null, 'activate', { activationType: 'contentsClicked' }) };
    assert.deepEqual(await raiseNotification(REQUEST, { notifier: clicked, platform: 'darwin' }), { kind: 'clicked' });
  });
});
