import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagModes, parseDaemonArgs, UsageError } from '../../../privileged-helper/bin/cli-args.js';

describe('portsentryd arguments', () => {
  it('takes the classic single mode flag', () => {
    assert.deepEqual(parseDaemonArgs(['-tcp']), { action: 'run', modes: ['tcp'], modesFromFlags: true, configPath: null });
  });
  it('takes several modes at once, deduplicated, with a config path', () => {
    assert.deepEqual(parseDaemonArgs(['-udp', '-c', '/etc/p.conf', '-tcp', '-udp']), { action: 'run', modes: ['udp', 'tcp'], modesFromFlags: true, configPath: '/etc/p.conf' });
    assert.equal(parseDaemonArgs(['--config=/x.conf']).configPath, '/x.conf');
    assert.equal(parseDaemonArgs(['--config', '/y.conf']).configPath, '/y.conf');
  });
  it('without a mode flag, leaves the modes to MODES (whose default is -tcp -udp)', () => {
    assert.deepEqual(parseDaemonArgs([]).modes, ['tcp', 'udp']);
    assert.equal(parseDaemonArgs(['-c', '/etc/p.conf']).modesFromFlags, false);
    assert.equal(flagModes(parseDaemonArgs(['-c', '/etc/p.conf'])), null);
    assert.deepEqual(flagModes(parseDaemonArgs(['-atcp', '-c', '/etc/p.conf'])), ['atcp']);
  });
  it('knows the stealth and advanced flags', () => {
    assert.deepEqual(parseDaemonArgs(['-stcp', '-sudp', '-atcp', '-audp']).modes, ['stcp', 'sudp', 'atcp', 'audp']);
  });
  it('maintenance actions', () => {
    assert.equal(parseDaemonArgs(['--check-config']).action, 'check-config');
    assert.equal(parseDaemonArgs(['--remove-firewall']).action, 'remove-firewall');
    assert.equal(parseDaemonArgs(['--disarm-trap', '-c', '/etc/x.conf']).action, 'disarm-trap');
    assert.equal(parseDaemonArgs(['--help']).action, 'help');
    assert.equal(parseDaemonArgs(['--version']).action, 'version');
  });
  for (const bad of [['-c'], ['--config='], ['-xtcp'], ['tcp'], ['--frobnicate'], ['-c', '']]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseDaemonArgs(bad), UsageError));
  }
  it('does not echo control characters from a bad argument', () => {
    assert.throws(
      () => parseDaemonArgs(['\u001b[31mevil']),
      (e: Error) => !e.message.includes('\u001b'),
    );
  });
});
