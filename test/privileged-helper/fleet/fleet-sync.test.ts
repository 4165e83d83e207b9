// FleetSync against a hostile LAPI (a fake fetch): a member flooding the fleet with bans
// gets at most the fleet's share of the block set; the rest stays this host's own.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetSync, fleetBlockQuota, LOOKUP_BUDGET_MS, plainHttpAcrossNetwork, type FleetDeps, type FleetSettings } from '../../../privileged-helper/fleet/fleet-sync.js';
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

/** Deps that record what the daemon is asked to block and lift, against a LAPI answering `answers`. */
function recording(answers: object[], extra: Partial<FleetDeps> = {}): { deps: FleetDeps; applied: string[]; lifted: string[] } {
  const applied: string[] = [];
  const lifted: string[] = [];
  const deps: FleetDeps = {
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
    fetchAnswer: lapi(answers),
    ...extra,
  };
  return { deps, applied, lifted };
}

describe('fleet sync', () => {
  it('leaves most of the block set to this host: the fleet holds at most a quarter, at most 200k', () => {
    assert.equal(fleetBlockQuota(1024), 256);
    assert.equal(fleetBlockQuota(400_000), 100_000);
    assert.equal(fleetBlockQuota(1_000_000), 200_000);
    assert.equal(fleetBlockQuota(16_000_000), 200_000);
  });

  it('applies a flood of bans only up to its share, refuses and counts the rest, and takes new ones once some are withdrawn', async () => {
    const flood = Array.from({ length: 20 }, (_, i) => ban(i + 1));
    const { deps, applied, lifted } = recording([
      { new: flood, deleted: [] },
      { new: [], deleted: [ban(1), ban(2)] },
      { new: [ban(30)], deleted: [] },
    ]);
    const sync = new FleetSync(settings, deps);
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

describe('fleet sync on reload', () => {
  it('hands its counts since start to the FleetSync that replaces it, so the metrics never go back', async () => {
    const { deps, applied } = recording([{ new: Array.from({ length: 10 }, (_, i) => ban(i + 1)), deleted: [] }]);
    const before = new FleetSync(settings, deps);
    before.start();
    try {
      await until('every decision is handled', () => applied.length + before.status().refused >= 10);
    } finally {
      await before.stop();
    }
    const after = new FleetSync(settings, recording([]).deps);
    before.handOver(after);
    assert.equal(after.status().refused, 2);
    assert.equal(after.refusedByReason.get('fleet-share-full'), 2);
    assert.equal(after.status().fleetBlocks, 8);
  });
});

describe("fleet sync and the LAPI's own address", () => {
  const run = async (url: string, resolveHost: ((name: string) => Promise<string[]>) | undefined, decisions: object[]) => {
    const { deps, applied } = recording([{ new: decisions, deleted: [] }], resolveHost === undefined ? {} : { resolveHost });
    const sync = new FleetSync({ ...settings, url, maxBlocks: 100 }, deps);
    sync.start();
    try {
      await until('every decision is handled', () => applied.length + sync.status().refused >= decisions.length);
    } finally {
      await sync.stop();
    }
    return { applied, refused: sync.refusedByReason };
  };

  it('never bans the LAPI it talks to (the ban would cut this host off from the fleet and from its withdrawal)', async () => {
    const lapiBan = { ...ban(1), value: '198.18.0.1' };
    const { applied, refused } = await run('http://198.18.0.1:8080', undefined, [lapiBan, ban(2)]);
    assert.deepEqual(applied, ['198.18.9.2']);
    assert.equal(refused.get('lapi-address'), 1);
  });

  it('nor the addresses its host name resolves to, IPv6 included', async () => {
    const names: string[] = [];
    const resolve = async (name: string) => {
      names.push(name);
      return ['198.18.0.7', 'FD00:0::7'];
    };
    const { applied, refused } = await run('https://lapi.fleet.test:8080', resolve, [{ ...ban(1), value: '198.18.0.7' }, { ...ban(2), value: 'fd00::7' }, ban(3)]);
    assert.deepEqual(names, ['lapi.fleet.test']);
    assert.deepEqual(applied, ['198.18.9.3']);
    assert.equal(refused.get('lapi-address'), 2);
  });
});

describe('fleet sync over the network', () => {
  it('warns when the credentials would cross the network in clear (plain http to another host)', () => {
    for (const url of ['http://198.18.0.1:8080', 'http://lapi.fleet.test:8080', 'http://[fd00::1]:8080']) assert.equal(plainHttpAcrossNetwork(url), true, url);
    for (const url of ['https://198.18.0.1:8080', 'http://127.0.0.1:8080', 'http://[::1]:8080', 'http://localhost:8080']) assert.equal(plainHttpAcrossNetwork(url), false, url);
    const lines: string[] = [];
    const sync = new FleetSync({ ...settings, bouncerKey: '' }, recording([], { log: (line) => lines.push(line) }).deps);
    sync.start();
    assert.ok(
      lines.some((line) => /plain http .* in clear/.test(line)),
      lines.join('\n'),
    );
  });
});

describe('fleet sync and the machine lookups', () => {
  it('spends a bounded time per pull asking which machine sent each ban (a member can make the answers fat)', async () => {
    // A clock that moves 100 ms on each reading: the lookups must stop once the budget is spent.
    let now = 0;
    const clock = () => (now += 100);
    let lookups = 0;
    const fat = JSON.stringify(Array.from({ length: 50 }, () => ({ machine_id: 'evil', decisions: Array.from({ length: 100 }, (_, i) => ({ id: 1000 + i })) })));
    const decisions = Array.from({ length: 20 }, (_, i) => ban(i + 1));
    const fetchAnswer = (async (input: string | URL | Request) => {
      const url = String(input);
      const json = (body: string) => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
      if (url.endsWith('/v1/watchers/login')) return json(JSON.stringify({ token: 'a'.repeat(32), expire: new Date(Date.now() + 3_600_000).toISOString() }));
      if (url.includes('/v1/alerts?')) {
        lookups += 1;
        return json(fat);
      }
      const answer = decisions.length > 0 ? { new: decisions.splice(0), deleted: [] } : { new: [], deleted: [] };
      return json(JSON.stringify(answer));
    }) as typeof fetch;
    const { deps, applied } = recording([], { clock, fetchAnswer });
    const sync = new FleetSync({ ...settings, machineId: 'hostB', password: 'password-0123456789', maxBlocks: 100 }, deps);
    sync.start();
    try {
      await until('the twenty bans are applied', () => applied.length === 20);
    } finally {
      await sync.stop();
    }
    assert.ok(lookups >= 1, 'machines are still looked up');
    assert.ok(lookups <= Math.ceil(LOOKUP_BUDGET_MS / 100), `${lookups} lookups in one pull`);
  });
});
