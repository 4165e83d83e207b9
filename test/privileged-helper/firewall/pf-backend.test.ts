// The pf backend (macOS) with a recording runner: pfctl does not exist on Linux, so we check
// the exact argument vectors and parse output as pfctl 10.x on macOS prints it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockError } from '../../../privileged-helper/firewall/block-backend.js';
import type { ProgramResult as ToolResult } from '../../../privileged-helper/responders/command-runner.js';
import { parsePfTableShow, PfBackend } from '../../../privileged-helper/firewall/pf-backend.js';

// Captured from `sudo pfctl -a portsentry -t portsentry_blocked -T show` on macOS 14.
const SHOW_STDOUT = '   192.0.2.7\n   198.18.0.12\n   2001:db8::5\n   fd00:5e::c\n';
const ALTQ_NOTE = 'No ALTQ support in kernel\nALTQ related functions disabled\n';
const NO_TABLE = `${ALTQ_NOTE}pfctl: Table does not exist.\n`;

interface Call {
  readonly argv: readonly string[];
  readonly stdin: string | undefined;
}

function recorder(answer: (argv: readonly string[]) => Partial<ToolResult> = () => ({})) {
  const calls: Call[] = [];
  const run = async (argv: readonly [string, ...string[]], stdin?: string): Promise<ToolResult> => {
    calls.push({ argv: [...argv], stdin });
    return { code: 0, signal: null, stdout: '', stderr: ALTQ_NOTE, ...answer(argv) };
  };
  return { calls, run };
}

describe('PfBackend', () => {
  it('start enables pf by reference and loads the one anchor rule from stdin', async () => {
    const { calls, run } = recorder();
    await new PfBackend({ run }).start();
    assert.deepEqual(calls, [
      { argv: ['/sbin/pfctl', '-E'], stdin: undefined },
      { argv: ['/sbin/pfctl', '-a', 'portsentry', '-f', '-'], stdin: 'block drop in quick from <portsentry_blocked> to any\n' },
    ]);
  });

  it('blocks and unblocks with -T add / -T delete on our table only, in canonical form', async () => {
    const { calls, run } = recorder();
    const backend = new PfBackend({ run });
    await backend.block('198.18.0.12');
    await backend.block('2001:DB8:0:0::5');
    await backend.block('::ffff:192.0.2.7');
    await backend.unblock('2001:db8::5');
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        ['/sbin/pfctl', '-a', 'portsentry', '-t', 'portsentry_blocked', '-T', 'add', '198.18.0.12'],
        ['/sbin/pfctl', '-a', 'portsentry', '-t', 'portsentry_blocked', '-T', 'add', '2001:db8::5'],
        ['/sbin/pfctl', '-a', 'portsentry', '-t', 'portsentry_blocked', '-T', 'add', '192.0.2.7'],
        ['/sbin/pfctl', '-a', 'portsentry', '-t', 'portsentry_blocked', '-T', 'delete', '2001:db8::5'],
      ],
    );
  });

  it('is idempotent: a second add ("0/1 addresses added") and deleting from an absent table succeed', async () => {
    const { run } = recorder((argv) => (argv.includes('add') ? { stderr: `${ALTQ_NOTE}0/1 addresses added.\n` } : argv.includes('-F') ? {} : { code: 1, stderr: NO_TABLE }));
    const backend = new PfBackend({ run });
    await backend.block('198.18.0.12');
    await backend.unblock('198.18.0.12');
    assert.deepEqual(await backend.list(), []);
    await backend.remove();
  });

  it('refuses anything but an IP address before running a command', async () => {
    const { calls, run } = recorder();
    const backend = new PfBackend({ run });
    for (const bad of ['example.com', '198.18.0.1/24', '198.18.0.0/33', '198.18.0.1; pfctl -d', '-F', 'fe80::1%en0', '', ' 198.18.0.1']) {
      await assert.rejects(backend.block(bad), (e: unknown) => e instanceof BlockError && e.code === 'invalid-address', bad);
      await assert.rejects(backend.unblock(bad), BlockError);
    }
    assert.equal(calls.length, 0);
  });

  it('refuses anchor and table names that pfctl could misread', () => {
    assert.throws(() => new PfBackend({ anchor: '-F' }), BlockError);
    assert.throws(() => new PfBackend({ table: 'a b' }), BlockError);
    assert.equal(new PfBackend({ anchor: 'com.apple/portsentry' }).anchor, 'com.apple/portsentry');
  });

  it('lists by parsing -T show, networks as prefixes, and ignores pfctl notes', async () => {
    const { calls, run } = recorder(() => ({ stdout: SHOW_STDOUT }));
    assert.deepEqual(await new PfBackend({ run }).list(), ['192.0.2.7', '198.18.0.12', '2001:db8::5', 'fd00:5e::c']);
    assert.deepEqual(calls[0]?.argv, ['/sbin/pfctl', '-a', 'portsentry', '-t', 'portsentry_blocked', '-T', 'show']);
    assert.deepEqual(parsePfTableShow('   10.0.0.0/8\n   192.0.2.1/32\n   10.0.0.1/8\nALTQ related functions disabled\n'), ['10.0.0.0/8', '192.0.2.1']);
  });

  it('remove flushes the anchor and kills the table, and nothing else', async () => {
    const { calls, run } = recorder();
    await new PfBackend({ run }).remove();
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        ['/sbin/pfctl', '-a', 'portsentry', '-F', 'all'],
        ['/sbin/pfctl', '-a', 'portsentry', '-t', 'portsentry_blocked', '-T', 'kill'],
      ],
    );
  });

  it('reports a failing pfctl with its last meaningful line', async () => {
    const { run } = recorder(() => ({ code: 1, stderr: `${ALTQ_NOTE}pfctl: /dev/pf: Permission denied\n` }));
    await assert.rejects(new PfBackend({ run }).block('198.18.0.12'), (e: unknown) => {
      assert.ok(e instanceof BlockError);
      assert.equal(e.code, 'command-failed');
      assert.match(e.message, /could not block 198\.18\.0\.12 \(exit status 1: pfctl: \/dev\/pf: Permission denied\)$/);
      return true;
    });
  });

  it('lifts a block with a timeout by itself, and stop cancels pending expiries', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { calls, run } = recorder();
    const backend = new PfBackend({ run });
    await backend.block('198.18.0.12', { timeoutSeconds: 60 });
    await backend.block('198.18.0.13', { timeoutSeconds: 60 });
    t.mock.timers.tick(60_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(calls.filter((c) => c.argv.includes('delete')).length, 2);
    await backend.block('198.18.0.14', { timeoutSeconds: 60 });
    await backend.stop();
    t.mock.timers.tick(60_000);
    assert.equal(calls.filter((c) => c.argv.includes('delete')).length, 2);
  });

  it('describes a block as the pfctl command it runs, in canonical form, never nft words', async () => {
    const { calls, run } = recorder();
    const backend = new PfBackend({ run, anchor: 'com.apple/portsentry' });
    const described = backend.describeBlock('2001:DB8::0:5');
    assert.equal(described, '/sbin/pfctl -a com.apple/portsentry -t portsentry_blocked -T add 2001:db8::5');
    assert.equal(backend.describeBlock('198.18.0.0/24'), '/sbin/pfctl -a com.apple/portsentry -t portsentry_blocked -T add 198.18.0.0/24');
    // Truthful: the words are exactly the argv block() runs.
    await backend.block('2001:DB8::0:5', { timeoutSeconds: 3600 });
    assert.equal(calls.at(-1)?.argv.join(' '), described);
    assert.doesNotMatch(described, /nft|element/);
    assert.throws(() => backend.describeBlock('198.18.0.1; rm -rf /'), BlockError);
  });
});
