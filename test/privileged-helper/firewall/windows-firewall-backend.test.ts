// The Windows Firewall backend with a recording runner: netsh does not exist on Linux, so we
// check the exact argument vectors and parse output as netsh on Windows 11 prints it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockError } from '../../../privileged-helper/firewall/block-backend.js';
import type { ProgramResult as ToolResult } from '../../../privileged-helper/responders/command-runner.js';
import { parseNetshRules, WindowsFirewallBackend } from '../../../privileged-helper/firewall/windows-firewall-backend.js';

const NETSH = ['netsh', 'advfirewall', 'firewall'];

// `netsh advfirewall firewall show rule name=all` (Windows 11 23H2, English), trimmed to a
// few rules: someone else's rules around ours, one of ours with an IPv6 address.
const SHOW_ALL = [
  '',
  'Rule Name:                            Core Networking - Teredo (UDP-In)',
  '----------------------------------------------------------------------',
  'Enabled:                              Yes',
  'Direction:                            In',
  'Profiles:                             Domain,Private,Public',
  'Grouping:                             Core Networking',
  'LocalIP:                              Any',
  'RemoteIP:                             Any',
  'Protocol:                             UDP',
  'LocalPort:                            Teredo',
  'RemotePort:                           Any',
  'Edge traversal:                       Yes',
  'Action:                               Allow',
  '',
  'Rule Name:                            PortSentry block 198.18.0.12',
  '----------------------------------------------------------------------',
  'Enabled:                              Yes',
  'Direction:                            In',
  'Profiles:                             Domain,Private,Public',
  'Grouping:                             ',
  'LocalIP:                              Any',
  'RemoteIP:                             198.18.0.12/32',
  'Protocol:                             Any',
  'Edge traversal:                       No',
  'Action:                               Block',
  '',
  'Rule Name:                            PortSentry block fd00:5e::c',
  '----------------------------------------------------------------------',
  'Enabled:                              Yes',
  'Direction:                            In',
  'RemoteIP:                             fd00:5e::c/128',
  'Action:                               Block',
  '',
  'Rule Name:                            PortSentry block list (user note)',
  '----------------------------------------------------------------------',
  'Action:                               Block',
  'Ok.',
  '',
].join('\r\n');
const NO_MATCH = '\r\nNo rules match the specified criteria.\r\n\r\n';

interface Answer {
  readonly argv: readonly string[];
  readonly stdin: string | undefined;
}

function recorder(answer: (argv: readonly string[]) => Partial<ToolResult> = () => ({})) {
  const calls: Answer[] = [];
  const run = async (argv: readonly [string, ...string[]], stdin?: string): Promise<ToolResult> => {
    calls.push({ argv: [...argv], stdin });
    return { code: 0, signal: null, stdout: 'Ok.\r\n\r\n', stderr: '', ...answer(argv) };
  };
  return { calls, run };
}

describe('WindowsFirewallBackend', () => {
  it('blocks an address it has no rule for: looks up, then adds one inbound block rule', async () => {
    const { calls, run } = recorder((argv) => (argv[3] === 'show' ? { code: 1, stdout: NO_MATCH } : {}));
    await new WindowsFirewallBackend({ run }).block('2001:DB8::0:5');
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        [...NETSH, 'show', 'rule', 'name=PortSentry block 2001:db8::5'],
        [...NETSH, 'add', 'rule', 'name=PortSentry block 2001:db8::5', 'dir=in', 'action=block', 'remoteip=2001:db8::5'],
      ],
    );
    assert.ok(calls.every((c) => c.stdin === undefined));
  });

  it('is idempotent: an existing rule is not added twice, an absent one is not an error to delete', async () => {
    const { calls, run } = recorder((argv) => (argv[3] === 'delete' ? { code: 1, stdout: NO_MATCH } : { stdout: SHOW_ALL }));
    const backend = new WindowsFirewallBackend({ run });
    await backend.block('198.18.0.12');
    await backend.unblock('198.18.0.99');
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        [...NETSH, 'show', 'rule', 'name=PortSentry block 198.18.0.12'],
        [...NETSH, 'delete', 'rule', 'name=PortSentry block 198.18.0.99'],
      ],
    );
  });

  it('unblocks by deleting the rule by its exact name', async () => {
    const { calls, run } = recorder(() => ({ stdout: '\r\nDeleted 1 rule(s).\r\nOk.\r\n\r\n' }));
    await new WindowsFirewallBackend({ run }).unblock('::ffff:198.18.0.12');
    assert.deepEqual(calls[0]?.argv, [...NETSH, 'delete', 'rule', 'name=PortSentry block 198.18.0.12']);
  });

  it('lists only our rules, from name=all output', async () => {
    const { calls, run } = recorder(() => ({ stdout: SHOW_ALL }));
    assert.deepEqual(await new WindowsFirewallBackend({ run }).list(), ['198.18.0.12', 'fd00:5e::c']);
    assert.deepEqual(calls[0]?.argv, [...NETSH, 'show', 'rule', 'name=all']);
  });

  it('parses rule names whatever the label language, and only canonical addresses', () => {
    const german = 'Regelname:                            PortSentry block 192.0.2.7\r\nAktion:   Blockieren\r\n';
    assert.deepEqual(parseNetshRules(german), ['192.0.2.7']);
    assert.deepEqual(parseNetshRules('Rule Name: PortSentry block 2001:DB8::5\nRule Name: PortSentry block evil.example\n'), []);
    assert.deepEqual(parseNetshRules(NO_MATCH), []);
  });

  it('remove deletes each of our rules and never uses name=all with delete', async () => {
    const { calls, run } = recorder((argv) => (argv[3] === 'show' ? { stdout: SHOW_ALL } : {}));
    await new WindowsFirewallBackend({ run }).remove();
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        [...NETSH, 'show', 'rule', 'name=all'],
        [...NETSH, 'delete', 'rule', 'name=PortSentry block 198.18.0.12'],
        [...NETSH, 'delete', 'rule', 'name=PortSentry block fd00:5e::c'],
      ],
    );
  });

  it('refuses anything but an IP address before running netsh', async () => {
    const { calls, run } = recorder();
    const backend = new WindowsFirewallBackend({ run });
    for (const bad of ['all', 'any', '198.18.0.7/24', '198.18.0.0/33', 'localsubnet', '198.18.0.1 dir=out', '198.18.0.1,10.0.0.1', 'fe80::1%12', '']) {
      await assert.rejects(backend.block(bad), (e: unknown) => e instanceof BlockError && e.code === 'invalid-address', bad);
      await assert.rejects(backend.unblock(bad), BlockError);
    }
    assert.equal(calls.length, 0);
  });

  it('reports a netsh failure with its message (e.g. not elevated)', async () => {
    const { run } = recorder((argv) => (argv[3] === 'show' ? { code: 1, stdout: NO_MATCH } : { code: 1, stdout: 'The requested operation requires elevation (Run as administrator).\r\n\r\n' }));
    await assert.rejects(new WindowsFirewallBackend({ run }).block('198.18.0.12'), (e: unknown) => {
      assert.ok(e instanceof BlockError);
      assert.equal(e.code, 'command-failed');
      assert.match(e.message, /requires elevation/);
      return true;
    });
  });

  it('start proves netsh answers by listing', async () => {
    const { calls, run } = recorder(() => ({ code: 1, stdout: '', stderr: 'The Windows Firewall service is not running.' }));
    await assert.rejects(new WindowsFirewallBackend({ run }).start(), /service is not running/);
    assert.equal(calls.length, 1);
  });

  it('describes a block as the netsh command that adds our named rule, never nft words', async () => {
    const { calls, run } = recorder((argv) => (argv[3] === 'show' ? { code: 1, stdout: NO_MATCH } : {}));
    const backend = new WindowsFirewallBackend({ run });
    const described = backend.describeBlock('2001:DB8::0:5');
    assert.equal(described, 'netsh advfirewall firewall add rule "name=PortSentry block 2001:db8::5" dir=in action=block remoteip=2001:db8::5');
    // Truthful: the same words block() runs (the name is one argument; quoted in the text).
    await backend.block('2001:DB8::0:5');
    assert.deepEqual(calls.at(-1)?.argv, ['netsh', 'advfirewall', 'firewall', 'add', 'rule', 'name=PortSentry block 2001:db8::5', 'dir=in', 'action=block', 'remoteip=2001:db8::5']);
    assert.doesNotMatch(described, /nft|element/);
    assert.throws(() => backend.describeBlock('host.example'), BlockError);
  });
});
