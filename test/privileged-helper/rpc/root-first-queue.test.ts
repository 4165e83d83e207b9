// The line costly control work waits in: root's job goes ahead of every operator job still
// waiting, and operators cannot queue without end (an edit flood once kept root waiting 52 s).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueueFullError, RootFirstQueue } from '../../../privileged-helper/rpc/root-first-queue.js';

describe('RootFirstQueue', () => {
  it("runs root's edit right after the one running, ahead of every waiting operator edit, and refuses operators past the cap", async () => {
    const queue = new RootFirstQueue(3, 'edits');
    const order: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = queue.run('operator', async () => {
      await gate;
      order.push('op0');
    });
    const waiting = [1, 2, 3].map((i) => queue.run('operator', async () => void order.push(`op${i}`)));
    await assert.rejects(
      queue.run('operator', async () => void order.push('op4')),
      QueueFullError,
    );
    const root = queue.run('admin', async () => void order.push('root'));
    release();
    await Promise.all([running, root, ...waiting]);
    assert.deepEqual(order, ['op0', 'root', 'op1', 'op2', 'op3']);
  });

  it('one at a time, whatever the outcome of the one before', async () => {
    const queue = new RootFirstQueue(8, 'edits');
    let inside = 0;
    let most = 0;
    const job = (fail: boolean) => async () => {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise<void>((resolve) => setImmediate(resolve));
      inside -= 1;
      if (fail) throw new Error('bad edit');
      return 'ok';
    };
    const results = await Promise.allSettled([queue.run('operator', job(true)), queue.run('admin', job(false)), queue.run('operator', job(false))]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    assert.equal(most, 1);
  });
});
