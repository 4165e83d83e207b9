// The capacity figure (bench/fig-hostile.ts) reports what the kernel's set holds, read back,
// not what the plan meant to load: given a load cut short behind its back, it reports the
// short count; given a full set, the newest scanner's block is in the kernel after it. Real
// nftables in a namespace this test creates; no thresholds on speed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { capacity, capacityAddress } from '../../bench/fig-hostile.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { runArgv } from '../../bench/processes.js';

const SET_SIZE = 2000;
const CUT = 100;

describe('the capacity figure reads the set back from the kernel', { timeout: 600_000 }, () => {
  let lab: Lab<'target'>;

  before(async () => {
    lab = await createLab(['target']);
  });

  after(async () => {
    await lab?.destroy();
  });

  it('reports the short count when the load is cut short, and every later block', async () => {
    const row = await capacity(
      lab.hosts.target,
      { setSize: SET_SIZE },
      {
        // Something takes 100 of the loaded elements away before the figure looks.
        afterLoad: async (nft, table, set) => {
          const gone = Array.from({ length: CUT }, (_, i) => capacityAddress(i));
          await runArgv([...nft, 'delete', 'element', 'inet', table, set, `{ ${gone.join(', ')} }`]);
        },
      },
    );
    assert.equal(row.plannedLoad, SET_SIZE - 5);
    assert.equal(row.heldAfterLoad, SET_SIZE - 5 - CUT);
    // Not full: the 11 blocks through the backend all went in and nothing was evicted.
    assert.equal(row.evicted, 0);
    assert.equal(row.held, SET_SIZE - 5 - CUT + 11);
    assert.equal(row.newestBlocked, true);
  });

  it('reports a full set as full, with the newest scanner in it after evictions', async () => {
    const row = await capacity(lab.hosts.target, { setSize: SET_SIZE });
    assert.equal(row.heldAfterLoad, SET_SIZE - 5);
    assert.ok(row.evicted > 0, 'the full set evicted to make room');
    assert.equal(row.held, SET_SIZE - row.evicted + 6, `held ${row.held} after evicting ${row.evicted}`);
    assert.equal(row.newestBlocked, true);
  });
});
