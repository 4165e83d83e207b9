import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandTemplate, renderCommand, substitute, templateUses } from '../../../shared/domain/command-template.js';

function argv(raw: string): readonly string[] {
  const result = parseCommandTemplate(raw);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.template.argv;
}

function refusal(raw: string): string {
  const result = parseCommandTemplate(raw);
  assert.equal(result.ok, false, `expected ${raw} to be refused`);
  return result.ok ? '' : result.message;
}

describe('command templates', () => {
  it('splits words like a shell line, without a shell', () => {
    assert.deepEqual(argv('/sbin/route add -host $TARGET$ reject'), ['/sbin/route', 'add', '-host', '$TARGET$', 'reject']);
    assert.deepEqual(argv("  /bin/logger   -t ps 'port $PORT$ hit'  "), ['/bin/logger', '-t', 'ps', 'port $PORT$ hit']);
    assert.deepEqual(argv('/bin/x a\\ b "c d" e""f \'\''), ['/bin/x', 'a b', 'c d', 'ef', '']);
  });

  it('refuses shell syntax with a reason', () => {
    for (const op of ['|', '&', ';', '<', '>', '`', '(', ')']) assert.match(refusal(`/bin/x ${op} y`), /shell operator/);
    assert.match(refusal('/bin/x $HOME'), /shell variables are not expanded/);
    assert.match(refusal('/bin/x $(id)'), /outside \$TARGET\$/);
    assert.match(refusal('/bin/x "open'), /unclosed " quote/);
    assert.match(refusal('/bin/x \\'), /lone backslash/);
    assert.match(refusal('   '), /is empty/);
    assert.match(refusal('$TARGET$ x'), /must start with a program/);
  });

  it('refuses shell syntax inside quotes too: that is what `sh -c` needs, and no block command does', () => {
    for (const quoted of ["'a|b'", '"x>y"', "'a;b'", "'`id`'", '"$(id)"', "'$HOME'", "'a&b'", "'(x)'", "'<in'"]) {
      assert.match(refusal(`/usr/bin/logger ${quoted}`), /inside quotes/, quoted);
    }
    assert.match(refusal("/bin/sh -c 'cat /etc/shadow > /tmp/x' sh $TARGET$"), /inside quotes/);
    assert.deepEqual(argv("/bin/logger 'scan from $TARGET$ on $PORT$'"), ['/bin/logger', 'scan from $TARGET$ on $PORT$'], 'placeholders inside quotes still work');
  });

  it("refuses a shell or interpreter as the program unless the caller allows it (root's own file)", () => {
    for (const program of [
      '/bin/sh',
      'sh',
      '/usr/bin/bash',
      '/bin/dash',
      'zsh',
      '/usr/bin/env',
      '/usr/bin/python3',
      '/usr/bin/python3.11',
      'perl',
      '/usr/bin/sudo',
      'busybox',
      "'C:\\Windows\\System32\\cmd.exe'",
      'powershell.exe',
      '/usr/bin/awk',
      '/usr/bin/find',
      '/usr/bin/nsenter',
    ]) {
      assert.match(refusal(`${program} /etc/ps/block $TARGET$`), /executes code of its own/, program);
      assert.ok(parseCommandTemplate(`${program} /etc/ps/block $TARGET$`, { allowCodeRunner: true }).ok, program);
    }
    for (const program of ['/sbin/iptables', '/usr/sbin/route', '/usr/local/bin/shout', '/usr/bin/shasum', '/usr/sbin/ip', '/usr/bin/logger', '/usr/sbin/nft']) {
      assert.ok(parseCommandTemplate(`${program} $TARGET$`).ok, program);
    }
  });

  it('substitution never changes the number of words', () => {
    const parsed = parseCommandTemplate('/usr/bin/ps-alert --host=$TARGET$ $PORT$ $MODE$ "$TARGET$ on $PORT$"');
    assert.ok(parsed.ok);
    assert.equal(templateUses(parsed.template, '$TARGET$'), true);
    assert.equal(templateUses(parsed.template, '$MODE$'), true);
    const rendered = renderCommand(parsed.template, { target: 'fd00::3', port: 1524, mode: 'tcp' });
    assert.deepEqual(rendered, ['/usr/bin/ps-alert', '--host=fd00::3', '1524', 'tcp', 'fd00::3 on 1524']);
  });

  it('substitute fills a hosts.deny line', () => {
    assert.equal(substitute('ALL: $TARGET$ : DENY # $MODE$/$PORT$', { target: '198.18.0.3', port: 1, mode: 'udp' }), 'ALL: 198.18.0.3 : DENY # udp/1');
  });
});
