// The firewall owner held to its word against the dry-run backend: what the ledger holds is
// what the "kernel" holds after every change another program makes, a failed command is
// repaired and retried before it counts as failed, and "degraded" is said while it cannot be.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockLedger } from '../../../privileged-helper/firewall/block-ledger.js';
import { DryRunBackend } from '../../../privileged-helper/firewall/dry-run-backend.js';
import { FirewallOwner } from '../../../privileged-helper/firewall/firewall-owner.js';
import type { TrapPlan } from '../../../privileged-helper/firewall/kernel-trap.js';

const TRAP: TrapPlan = {
  tcpPorts: [[1, 1024]],
  udpPorts: [],
  udpTripwires: [],
  tcpTripwires: [],
  ignore4: ['127.0.0.0/8'],
  ignore6: ['::1'],
  timeoutSeconds: 0,
  prefix6: 64,
  shared6: [],
  ratePerPrefix: 64,
};

function setUp() {
  let now = 1_000_000;
  const clock = () => now;
  const backend = new DryRunBackend(clock);
  const ledger = new BlockLedger();
  const lines: string[] = [];
  const owner = new FirewallOwner(backend, ledger, { log: (line) => lines.push(line), clock, checkIntervalMs: 3_600_000 });
  /** Blocks as the daemon does: the owner first, the ledger once the kernel took it. */
  const block = async (key: string, seconds?: number) => {
    ledger.markPending(key);
    await owner.block(key, seconds === undefined ? {} : { timeoutSeconds: seconds });
    ledger.confirm(key, seconds === undefined ? null : now + seconds * 1000);
  };
  const advance = (ms: number) => (now += ms);
  /** Waits until the owner has handled what it heard (its settle timer, then its queue). */
  const settled = async () => {
    await new Promise((resolve) => setTimeout(resolve, 40));
    await owner.check(null);
  };
  return { backend, ledger, owner, lines, block, advance, settled, clock };
}

function confirmedKeys(ledger: BlockLedger, now: number): string[] {
  return [...ledger.confirmed(now)].map((b) => b.key).sort();
}

describe('firewall owner', () => {
  it('restores the table, every block with its time left and the trap after a flush by another program', async () => {
    const { backend, ledger, owner, lines, block, advance, settled, clock } = setUp();
    await owner.start();
    await owner.setTrap(TRAP);
    await block('198.18.0.5', 600);
    await block('198.18.0.6');
    advance(100_000);
    backend.otherProgram.flushRuleset();
    assert.deepEqual(backend.held(), [], 'the flush took everything');
    await settled();
    assert.deepEqual(backend.held(), confirmedKeys(ledger, clock()));
    assert.deepEqual(backend.held(), ['198.18.0.5', '198.18.0.6']);
    // The time left, not the full block again: 600 s minus the 100 s that passed.
    assert.equal(backend.kernel.get('198.18.0.5'), clock() + 500_000);
    assert.deepEqual(backend.trapInstalled, TRAP);
    assert.deepEqual(owner.health(), { inSync: true, problem: null, repairs: 1 });
    assert.equal(lines.filter((l) => /restored it with 2 blocks/.test(l)).length, 1, lines.join('\n'));
    await owner.stop();
  });

  it('puts back blocks another program deleted one by one, and leaves alone those the helper lifted', async () => {
    const { backend, ledger, owner, lines, block, settled, clock } = setUp();
    await owner.start();
    await block('198.18.0.5');
    await block('198.18.0.7');
    await owner.unblock('198.18.0.7');
    ledger.forget('198.18.0.7');
    backend.otherProgram.deleteElements('198.18.0.5', '198.18.0.7');
    await settled();
    assert.deepEqual(backend.held(), confirmedKeys(ledger, clock()));
    assert.deepEqual(backend.held(), ['198.18.0.5']);
    assert.match(lines.join('\n'), /removed 1 block the helper holds \(198\.18\.0\.5\); put back/);
    await owner.stop();
  });

  it('never calls a block done while the table is gone: it restores the table and tries again', async () => {
    const { backend, ledger, owner, block, clock } = setUp();
    await owner.start();
    await block('198.18.0.5');
    // Gone without a word from the monitor (say it was restarting): the failed add is the sign.
    backend.tablePresent = false;
    backend.kernel.clear();
    await block('198.18.0.9');
    assert.deepEqual(backend.held(), ['198.18.0.5', '198.18.0.9']);
    assert.deepEqual(backend.held(), confirmedKeys(ledger, clock()));
    assert.equal(owner.health().repairs, 1);
    await owner.stop();
  });

  it('says degraded, with why, while the kernel cannot be made to match, and in sync once it can', async () => {
    const { backend, owner, lines, block } = setUp();
    await owner.start();
    await block('198.18.0.5');
    backend.tablePresent = false;
    backend.kernel.clear();
    backend.failNext.start = 1;
    assert.equal(await owner.check('a test'), false);
    const health = owner.health();
    assert.equal(health.inSync, false);
    assert.match(health.problem ?? '', /lacks the table inet dry-run and could not be restored: dry-run: start fails/);
    assert.match(lines.join('\n'), /ERROR: .*degraded/);
    assert.equal(await owner.check(null), true);
    assert.deepEqual(owner.health(), { inSync: true, problem: null, repairs: 1 });
    assert.deepEqual(backend.held(), ['198.18.0.5']);
    await owner.stop();
  });

  it('a block that fails even after a repair is a failure, and the ledger is not told otherwise', async () => {
    const { backend, owner } = setUp();
    await owner.start();
    backend.failNext.block = 2;
    await assert.rejects(owner.block('198.18.0.5'), /block fails as asked/);
    assert.deepEqual(backend.held(), []);
    await owner.stop();
  });

  it('brings a new backend up holding every block the helper already has (a reload that changed the table)', async () => {
    const { ledger, clock } = setUp();
    ledger.confirm('198.18.0.5', null);
    ledger.confirm('198.18.0.6', clock() + 60_000);
    const fresh = new DryRunBackend(clock);
    const owner = new FirewallOwner(fresh, ledger, { log: () => undefined, clock, checkIntervalMs: 3_600_000 });
    await owner.start();
    assert.deepEqual(fresh.held(), ['198.18.0.5', '198.18.0.6']);
    await owner.stop();
  });
});
