import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommandBackend, runCommand } from '../../../privileged-helper/responders/command-runner.js';
import { parseCommandTemplate } from '../../../shared/domain/command-template.js';
import { BlockError } from '../../../privileged-helper/responders/block-backend.js';

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
