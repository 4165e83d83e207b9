// The first-run view's actions as main carries them out: nothing runs as root unless the user
// pressed the consent button, the command is the fixed one, and a fix the state does not call
// for is refused. Also when the dashboard opens by itself.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixHelper, type FixerDeps } from '../../main/helper-fixer.js';
import type { SetupFacts } from '../../main/helper-setup.js';
import { privilegedArgv, type Consent } from '../../main/install-helper.js';
import { shouldOpenDashboardAtStart, trayAvailable, STATUS_NOTIFIER_WATCHER } from '../../main/startup.js';

const facts: SetupFacts = {
  helper: { kind: 'unreachable', reason: 'not-running', message: 'no socket' },
  installed: true,
  installer: null,
  user: 'alice',
  group: { name: 'portsentry', gid: 998, members: ['alice'] },
  processGroups: [1000],
  sessionId: '7',
};

function deps(answer: number, overrides: Partial<SetupFacts> = {}) {
  const log: string[] = [];
  const d: FixerDeps = {
    facts: async () => ({ ...facts, ...overrides }),
    ask: async (text) => {
      log.push(`ask: ${text.message}`);
      return answer;
    },
    runPrivileged: async (consent: Consent | null) => {
      if (consent === null) return { ok: false, reason: 'no-consent', message: 'the user did not agree' };
      log.push(`root: ${privilegedArgv(consent.plan).join(' ')}`);
      return { ok: true, command: 'x' };
    },
    run: async (argv) => void log.push(`run: ${argv.join(' ')}`),
    retry: () => void log.push('retry'),
  };
  return { d, log };
}

describe('carrying out the first-run action', () => {
  it('runs the start command as root only after consent, then reconnects', async () => {
    const refused = deps(0);
    assert.deepEqual(await fixHelper('start', refused.d), { done: false, message: 'Nothing was changed: you did not agree.' });
    assert.deepEqual(refused.log, ['ask: PortSentry needs administrator rights to start the PortSentry helper service.']);
    const agreed = deps(1);
    assert.deepEqual(await fixHelper('start', agreed.d), { done: true, message: 'The helper is starting.' });
    assert.deepEqual(agreed.log.slice(1), ['root: /usr/bin/systemctl start portsentryd', 'retry']);
  });

  it('without pkexec, asks nothing and runs nothing: the answer is the command to run with sudo', async () => {
    const none = deps(1, { elevation: false });
    const result = await fixHelper('start', none.d);
    assert.deepEqual(result, {
      done: false,
      message: "No graphical password prompt (pkexec or kdesudo) is installed. Run this in a terminal, then press Try again: sudo '/usr/bin/systemctl' 'start' 'portsentryd'",
    });
    assert.deepEqual(none.log, []);
  });

  it('adds the user to the group after consent; a fix the state does not need is refused unasked', async () => {
    const denied = { helper: { kind: 'unreachable', reason: 'permission-denied', message: 'x' } as const, group: { name: 'portsentry', gid: 998, members: [] } };
    const agreed = deps(1, denied);
    const result = await fixHelper('join-group', agreed.d);
    assert.equal(result.done, true);
    assert.deepEqual(agreed.log.slice(1), ['root: /usr/sbin/usermod -a -G portsentry alice', 'retry']);
    const wrong = deps(1, denied);
    assert.equal((await fixHelper('start', wrong.d)).done, false);
    assert.deepEqual(wrong.log, [], 'no dialog, nothing run');
  });

  it('logs out only when confirmed', async () => {
    const relogin = { helper: { kind: 'unreachable', reason: 'permission-denied', message: 'x' } as const };
    const no = deps(0, relogin);
    assert.equal((await fixHelper('log-out', no.d)).done, false);
    assert.equal(no.log.length, 1);
    const yes = deps(1, relogin);
    assert.deepEqual(await fixHelper('log-out', yes.d), { done: true, message: 'Logging out…' });
    assert.deepEqual(yes.log.slice(1), ['run: /usr/bin/loginctl terminate-session 7']);
  });

  it('opens the dashboard at the first launch and whenever there is no tray', async () => {
    assert.equal(shouldOpenDashboardAtStart({ firstRun: true, trayAvailable: true }), true);
    assert.equal(shouldOpenDashboardAtStart({ firstRun: false, trayAvailable: false }), true);
    assert.equal(shouldOpenDashboardAtStart({ firstRun: false, trayAvailable: true }), false);
    assert.equal(await trayAvailable('darwin', async () => false), true);
    assert.equal(await trayAvailable('linux', async (name) => name === STATUS_NOTIFIER_WATCHER), true);
    assert.equal(await trayAvailable('linux', async () => false), false, 'stock GNOME: no watcher');
    assert.equal(await trayAvailable('linux', async () => Promise.reject(new Error('no bus'))), false);
  });
});
