import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrapPlan } from '../../../privileged-helper/firewall/kernel-trap.js';
import { TrapController } from '../../../privileged-helper/firewall/trap-controller.js';

const PLAN: TrapPlan = {
  tcpPorts: [[1, 1023]],
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

/** An installer that records each call and holds it until the test lets it finish. */
function heldInstaller() {
  const calls: Array<TrapPlan | null> = [];
  const pending: Array<() => void> = [];
  const install = (plan: TrapPlan | null) =>
    new Promise<void>((resolve) => {
      calls.push(plan);
      pending.push(resolve);
    });
  const releaseAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { calls, install, releaseAll };
}

describe('the kernel trap controller', () => {
  it('an install still in flight when the daemon stops cannot leave the trap armed', async () => {
    const { calls, install, releaseAll } = heldInstaller();
    const trap = new TrapController(install, () => undefined);
    const armed = trap.apply(PLAN); // e.g. a timer's update, still talking to nft
    await new Promise((r) => setImmediate(r));
    const closed = trap.close(); // systemctl stop
    const late = trap.apply({ ...PLAN, timeoutSeconds: 60 }); // a timer firing after stop
    await releaseAll();
    await Promise.all([armed, closed, late]);
    assert.deepEqual(calls, [PLAN, null], 'armed, then disarmed, and nothing after');
  });

  it('changes go one at a time, in order, and an unchanged plan is not installed again', async () => {
    let running = 0;
    let most = 0;
    const calls: Array<TrapPlan | null> = [];
    const trap = new TrapController(
      async (plan) => {
        running += 1;
        most = Math.max(most, running);
        calls.push(plan);
        await new Promise((r) => setImmediate(r));
        running -= 1;
      },
      () => undefined,
    );
    const other = { ...PLAN, ratePerPrefix: 0 };
    await Promise.all([trap.apply(PLAN), trap.apply(PLAN), trap.apply(other), trap.apply(null), trap.apply(null)]);
    assert.equal(most, 1, 'never two nft changes at once');
    assert.deepEqual(calls, [PLAN, other, null]);
  });

  it('a failed install is logged in words and the next change is still made; close disarms even after a failure', async () => {
    const logged: string[] = [];
    const calls: Array<TrapPlan | null> = [];
    let fail = true;
    const trap = new TrapController(
      async (plan) => {
        calls.push(plan);
        if (fail) throw new Error('Could not process rule: No such file or directory');
      },
      (line) => logged.push(line),
    );
    await trap.apply(PLAN);
    assert.match(logged.join('\n'), /the kernel trap could not be installed: Could not process rule.*detection continues in user space/);
    fail = false;
    await trap.apply(PLAN); // not installed before, so tried again
    assert.match(logged.at(-1)!, /Kernel trap armed on 1 port ranges/);
    await trap.close();
    assert.deepEqual(calls, [PLAN, PLAN, null]);
  });
});
