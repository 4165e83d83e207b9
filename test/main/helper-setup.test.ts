// The first-run view's diagnosis: each helper state gets its words and its one action, and a
// page can only ask for the action offered now, with names that are safe in a command.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeServiceStop, diagnoseHelper, findGroup, fixPlan, graphicalElevation, safeAccountName, type SetupFacts } from '../../main/helper-setup.js';
import { privilegedArgv, shellCommand } from '../../main/install-helper.js';

const GROUP_FILE = 'root:x:0:\nsudo:x:27:alice\nportsentry:x:998:bob,alice\nalice:x:1000:\n';
const base: SetupFacts = {
  helper: { kind: 'unreachable', reason: 'not-running', message: 'no socket' },
  installed: false,
  installer: '/opt/PortSentry Desktop/resources/install-helper.sh',
  user: 'alice',
  group: null,
  processGroups: [1000, 27],
  sessionId: '3',
};

describe('first-run diagnosis', () => {
  it('reads the group file', () => {
    assert.deepEqual(findGroup(GROUP_FILE, 'portsentry'), { name: 'portsentry', gid: 998, members: ['bob', 'alice'] });
    assert.equal(findGroup(GROUP_FILE, 'missing'), null);
    assert.equal(findGroup('portsentry:x:notanumber:alice\n', 'portsentry'), null);
  });

  it('gives each state its one action', () => {
    const state = (facts: Partial<SetupFacts>) => {
      const setup = diagnoseHelper({ ...base, ...facts });
      return [setup.state, setup.action?.id ?? null, setup.action?.elevated ?? null];
    };
    assert.deepEqual(state({}), ['not-installed', 'install', true]);
    assert.deepEqual(state({ installer: null }), ['not-installed', null, null], 'no installer: says to install the package');
    assert.deepEqual(state({ installed: true }), ['not-running', 'start', true]);
    const denied = { kind: 'unreachable', reason: 'permission-denied', message: 'EACCES' } as const;
    assert.deepEqual(state({ helper: denied, group: { name: 'portsentry', gid: 998, members: [] } }), ['permission-denied', 'join-group', true]);
    assert.deepEqual(state({ helper: denied }), ['permission-denied', 'join-group', true], 'no group yet either');
    assert.deepEqual(state({ helper: denied, group: findGroup(GROUP_FILE, 'portsentry') }), ['needs-relogin', 'log-out', false], 'in the file, not in this session');
    assert.deepEqual(state({ helper: denied, group: findGroup(GROUP_FILE, 'portsentry'), sessionId: null }), ['needs-relogin', null, null]);
    assert.deepEqual(state({ helper: denied, group: findGroup(GROUP_FILE, 'portsentry'), processGroups: [998] }), ['unreachable', 'retry', false]);
    assert.deepEqual(state({ helper: { kind: 'unreachable', reason: 'timeout', message: 'slow' } }), ['unreachable', 'retry', false]);
    assert.deepEqual(state({ helper: { kind: 'connected', paused: false } }), ['running', null, null]);
    assert.deepEqual(state({ helper: { kind: 'connecting' } }), ['connecting', null, null]);
    assert.match(diagnoseHelper({ ...base, helper: denied, group: findGroup(GROUP_FILE, 'portsentry') }).detail, /Log out and back in/);
  });

  it('runs only the action offered now, with fixed programs and checked names', () => {
    assert.deepEqual(fixPlan('start', base), { kind: 'refused', message: '"start" is not what the helper needs now (that is "install")' });
    const install = fixPlan('install', base);
    assert.equal(install.kind, 'elevated');
    assert.deepEqual(privilegedArgv((install as Extract<typeof install, { kind: 'elevated' }>).plan), ['/bin/sh', base.installer, '--user', 'alice']);
    assert.equal(shellCommand(['/bin/sh', base.installer!, '--user', 'alice']), `'/bin/sh' '/opt/PortSentry Desktop/resources/install-helper.sh' '--user' 'alice'`);
    assert.deepEqual(fixPlan('start', { ...base, installed: true }), { kind: 'elevated', plan: { kind: 'start' } });
    const denied = { ...base, helper: { kind: 'unreachable', reason: 'permission-denied', message: 'x' } as const };
    const join = fixPlan('join-group', denied);
    assert.deepEqual(privilegedArgv((join as Extract<typeof join, { kind: 'elevated' }>).plan), ['/usr/sbin/usermod', '-a', '-G', 'portsentry', 'alice']);
    // A hostile user name (a directory service can hold anything) never reaches a root command.
    assert.equal(fixPlan('join-group', { ...denied, user: 'alice; reboot' }).kind, 'refused');
    assert.equal(fixPlan('install', { ...base, user: '$(id)' }).kind, 'refused');
    assert.throws(() => privilegedArgv({ kind: 'join-group', group: 'portsentry', user: 'a b' }));
    assert.throws(() => privilegedArgv({ kind: 'install', installer: '/x.sh', user: "x'y" }));
    const relogin = { ...denied, group: findGroup(GROUP_FILE, 'portsentry') };
    assert.deepEqual(fixPlan('log-out', relogin), { kind: 'run', argv: ['/usr/bin/loginctl', 'terminate-session', '3'] });
    assert.equal(fixPlan('log-out', { ...relogin, sessionId: '3 --all' }).kind, 'refused');
    assert.deepEqual(fixPlan('retry', { ...base, helper: { kind: 'unreachable', reason: 'timeout', message: 'x' } }), { kind: 'retry' });
    assert.equal(fixPlan('retry', { ...base, helper: { kind: 'connected', paused: false } }).kind, 'refused', 'nothing to fix');
    for (const [name, ok] of [
      ['alice', true],
      ['_svc', true],
      ['a-b_1', true],
      ['Alice', false],
      ['1abc', false],
      ['', false],
      ['a'.repeat(33), false],
      ['-rf', false],
    ] as const) {
      assert.equal(safeAccountName(name), ok, name);
    }
  });

  it("not running: says why it stopped, from systemd's exit status and last journal line", () => {
    assert.equal(
      describeServiceStop('Result=exit-code\nExecMainStatus=78\n', 'portsentryd: /etc/portsentry/portsentry.conf:12: unknown key FOO\n'),
      'exit status 78, systemd: exit-code, last log line: "portsentryd: /etc/portsentry/portsentry.conf:12: unknown key FOO"',
    );
    assert.equal(describeServiceStop('Result=signal\nExecMainStatus=9\n', ''), 'killed by signal 9, systemd: signal');
    assert.equal(describeServiceStop('Result=success\nExecMainStatus=0\n', ''), null, 'stopped on purpose: nothing to say');
    assert.equal(describeServiceStop('', ''), null);
    const detail = diagnoseHelper({ ...base, installed: true, stoppedBecause: 'exit status 78, systemd: exit-code' }).detail;
    assert.match(detail, /It stopped: exit status 78, systemd: exit-code\./);
  });

  it('without a graphical password prompt (no pkexec), the fix is the command to copy, never a silent failure', async () => {
    const plan = fixPlan('start', { ...base, installed: true, elevation: false });
    assert.deepEqual(plan, { kind: 'manual', command: "sudo '/usr/bin/systemctl' 'start' 'portsentryd'" });
    const denied = { ...base, helper: { kind: 'unreachable', reason: 'permission-denied', message: 'x' } as const, elevation: false };
    assert.deepEqual(fixPlan('join-group', denied), { kind: 'manual', command: "sudo '/usr/sbin/usermod' '-a' '-G' 'portsentry' 'alice'" });
    assert.equal(fixPlan('start', { ...base, installed: true, elevation: true }).kind, 'elevated');
    // The card carries that command before anything is pressed; with a prompt, or for a fix needing no root, it carries none.
    assert.equal(diagnoseHelper({ ...base, installed: true, elevation: false }).command, "sudo '/usr/bin/systemctl' 'start' 'portsentryd'");
    assert.equal(diagnoseHelper({ ...base, installed: true, elevation: true }).command, undefined);
    assert.equal(diagnoseHelper({ ...base, helper: { kind: 'connected', paused: false }, elevation: false }).command, undefined);
    assert.equal(
      await graphicalElevation('linux', '/nonexistent-a:/nonexistent-b'),
      (await import('node:fs')).existsSync('/usr/bin/pkexec') || (await import('node:fs')).existsSync('/usr/bin/kdesudo'),
    );
    assert.equal(await graphicalElevation('darwin', ''), true);
  });
});
