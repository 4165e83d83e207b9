// FleetSync against a hostile LAPI (a fake fetch): a member flooding the fleet with bans
// gets at most the fleet's share of the block set; the rest stays this host's own.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetSync, fleetBlockQuota, type FleetSettings } from '../../../privileged-helper/fleet/fleet-sync.js';
import { until } from '../../support/wait.js';

const settings: FleetSettings = {
  sharing: true,
  url: 'http://198.18.0.1:8080',
  machineId: '',
  password: '',
  bouncerKey: 'bouncer-key-0123456789',
  scenario: 'portsentry/port-scan',
  origin: 'crowdsec',
  decisionSeconds: 3600,
  maxBlocks: 8,
};

const ban = (id: number) => ({ id, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: `198.18.9.${id}`, duration: '8760h', scenario: 'evil/flood' });

/** A LAPI whose decision stream hands out the given answers in turn, then nothing new. */
function lapi(answers: object[]): typeof fetch {
  return (async (input: string | URL | Request) => {
    assert.match(String(input), /\/v1\/decisions\/stream/);
    const body = answers.shift() ?? { new: [], deleted: [] };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

describe('fleet sync', () => {
  it('leaves most of the block set to this host: the fleet holds at most a quarter, at most 200k', () => {
    assert.equal(fleetBlockQuota(1024), 256);
    assert.equal(fleetBlockQuota(400_000), 100_000);
    assert.equal(fleetBlockQuota(1_000_000), 200_000);
    assert.equal(fleetBlockQuota(16_000_000), 200_000);
  });

  it('applies a flood of bans only up to its share, refuses and counts the rest, and takes new ones once some are withdrawn', async () => {
    const applied: string[] = [];
    const lifted: string[] = [];
    const flood = Array.from({ length: 20 }, (_, i) => ban(i + 1));
    const sync = new FleetSync(settings, {
      clock: Date.now,
      random: () => 0,
      log: () => undefined,
      applyBlock: async (address) => {
        applied.push(address);
        return { ok: true };
      },
      liftBlock: async (address) => {
        lifted.push(address);
      },
      fetchAnswer: lapi([
        { new: flood, deleted: [] },
        { new: [], deleted: [ban(1), ban(2)] },
        { new: [ban(30)], deleted: [] },
      ]),
    });
    sync.start();
    try {
      await until('the new ban after the withdrawals is applied', () => applied.includes('198.18.9.30'));
    } finally {
      await sync.stop();
    }
    assert.deepEqual(
      applied.slice(0, 8),
      flood.slice(0, 8).map((d) => d.value),
    );
    assert.equal(applied.length, 9, applied.join(' '));
    assert.equal(sync.refusedByReason.get('fleet-share-full'), 12);
    assert.deepEqual(lifted, ['198.18.9.1', '198.18.9.2']);
    assert.equal(sync.status().fleetBlocks, 7);
  });
});
