import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommandBackend, describeFailure, displayArgv, runCommand, runProgram, runTool } from '../../../privileged-helper/responders/command-runner.js';
import { parseCommandTemplate } from '../../../shared/domain/command-template.js';
import { BlockError } from '../../../privileged-helper/firewall/block-backend.js';

function template(raw: string) {
  const parsed = parseCommandTemplate(raw);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.template;
}

describe('command runner (real processes, no shell)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cmd-runner-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes each word as one argument: shell syntax in a word stays literal', async () => {
    const out = join(dir, 'args');
    const result = await runCommand(['/bin/sh', '-c', 'printf "%s\\n" "$@" > "$0"', out, 'a b', '$(reboot)', ';', '`id`']);
    assert.equal(result.ok, true);
    assert.equal(await readFile(out, 'utf8'), 'a b\n$(reboot)\n;\n`id`\n');
  });

  it('reports exit status, signal and a missing program', async () => {
    const failed = await runCommand(['/bin/sh', '-c', 'echo nope >&2; exit 3']);
    assert.deepEqual([failed.ok, failed.exitCode, failed.stderr.trim()], [false, 3, 'nope']);
    const killed = await runCommand(['/bin/sleep', '5'], 100);
    assert.equal(killed.ok, false);
    assert.equal(killed.signal, 'SIGTERM');
    const missing = await runCommand(['/nonexistent/program']);
    assert.equal(missing.ok, false);
    assert.match(missing.stderr, /ENOENT: cannot run \/nonexistent\/program/);
  });

  it('the one runner: stdin, exit status, bounded output, a missing program as unavailable', async () => {
    assert.deepEqual(await runTool(['cat'], 'hello'), { code: 0, signal: null, stdout: 'hello', stderr: '' });
    assert.equal((await runTool(['sh', '-c', 'exit 3'])).code, 3);
    await assert.rejects(runTool(['/nonexistent/pfctl', '-s', 'info']), (e: unknown) => e instanceof BlockError && e.code === 'backend-unavailable');
    // A chatty program is killed at the bound rather than filling memory.
    const chatty = await runProgram(['/bin/sh', '-c', 'yes x'], { maxOutputBytes: 4096 });
    assert.notEqual(chatty.code, 0);
    assert.ok(chatty.stdout.length <= 4096);
    assert.match(describeFailure(chatty), /printed more than 4096 bytes/);
    const slow = await runProgram(['/bin/sleep', '5'], { timeoutMs: 100 });
    assert.equal(describeFailure(slow), 'killed by SIGTERM');
  });

  it("failure text is one clean line: nft's Error line first, noise and control characters out", () => {
    const nft = { code: 1, signal: null, stdout: '', stderr: 'Error: Could not process rule: No such file or directory\nadd element inet t blocked4 { 1.2.3.4 }\n   ^^^^^\n' };
    assert.equal(describeFailure(nft), 'exit status 1: Error: Could not process rule: No such file or directory');
    const pf = { code: 1, signal: null, stdout: '', stderr: 'No ALTQ support in kernel\npfctl: busy\x1b[2J\nALTQ related functions disabled\n' };
    assert.equal(describeFailure(pf, /ALTQ/), 'exit status 1: pfctl: busy [2J');
    assert.equal(describeFailure({ code: 2, signal: null, stdout: 'x'.repeat(500), stderr: '' }).length, 'exit status 2: '.length + 200);
  });

  it('shows an argv as it would be typed, one word staying one word', () => {
    assert.equal(displayArgv(['/sbin/route', 'add', '-host', '198.18.0.5', 'reject']), '/sbin/route add -host 198.18.0.5 reject');
    assert.equal(displayArgv(['netsh', 'name=PortSentry block 198.18.0.5', 'say "hi"', '']), 'netsh "name=PortSentry block 198.18.0.5" "say \\"hi\\"" ""');
  });

  it('KILL_ROUTE backend describes a block as the argv it runs', async () => {
    const marker = join(dir, 'described');
    const backend = new CommandBackend(template(`/usr/bin/touch ${marker}-$TARGET$-$PORT$-$MODE$`));
    assert.equal(backend.describeBlock('2001:DB8::0:5', { port: 31337, mode: 'stcp' }), `/usr/bin/touch ${marker}-2001:db8::5-31337-stcp`);
    assert.throws(() => backend.describeBlock('198.18.0.1 198.18.0.2'), BlockError);
  });

  it('KILL_ROUTE backend substitutes $TARGET$ $PORT$ $MODE$ into words and remembers blocks', async () => {
    const marker = join(dir, 'route');
    const backend = new CommandBackend(template(`/usr/bin/touch ${marker}-$TARGET$-$PORT$-$MODE$`));
    await backend.block('198.18.0.9', { port: 143, mode: 'tcp' });
    await readFile(`${marker}-198.18.0.9-143-tcp`, 'utf8');
    assert.deepEqual(await backend.list(), ['198.18.0.9']);
    await assert.rejects(backend.unblock('198.18.0.9'), /cannot be undone automatically/);
    await backend.unblock('198.18.0.10'); // never blocked: nothing to do
  });

  it('KILL_ROUTE backend refuses non-addresses and surfaces command failures', async () => {
    const backend = new CommandBackend(template('/bin/false $TARGET$'));
    await assert.rejects(backend.block('evil.example'), (e: unknown) => e instanceof BlockError && e.code === 'invalid-address');
    await assert.rejects(backend.block('198.18.0.9'), (e: unknown) => e instanceof BlockError && /exit status 1/.test((e as Error).message));
    assert.deepEqual(await backend.list(), []);
  });
});
