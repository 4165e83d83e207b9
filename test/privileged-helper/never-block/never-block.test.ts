import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { protectedOverlap, parseBlockTarget, type BlockTarget } from '../../../shared/domain/block-target.js';
import { NeverBlock } from '../../../privileged-helper/never-block/never-block.js';

const HOST = { own: ['198.18.0.10', 'fd00:5e::10'], gateways: ['198.18.0.1'], resolvers: ['198.18.0.53'] };
const IGNORE = [{ address: '198.18.7.0', family: 4 as const, prefix: 24 }];

function target(text: string): BlockTarget {
  const parsed = parseBlockTarget(text);
  assert.ok(typeof parsed !== 'string', `${text}: ${String(parsed)}`);
  return parsed;
}

describe('what is never blocked, in one place', () => {
  it('the same answer for a scanner, a prefix blocked by hand and the kernel trap', () => {
    const never = new NeverBlock(IGNORE, HOST);
    assert.equal(never.reasonToIgnore('198.18.0.1', 4), 'gateway');
    assert.equal(never.reasonToIgnore('198.18.7.9', 4), 'ignore-list');
    assert.equal(never.reasonToIgnore('198.18.0.99', 4), null);
    // A prefix holding the resolver, the host or an ignored network is refused, with why.
    assert.match(protectedOverlap(target('198.18.0.0/26'), never.networks())?.why ?? '', /own addresses|gateway|resolvers/);
    assert.match(protectedOverlap(target('198.18.7.128/25'), never.networks())?.why ?? '', /ignore list/);
    assert.match(protectedOverlap(target('127.0.0.0/16'), never.networks())?.why ?? '', /own addresses/);
    assert.match(protectedOverlap(target('fd00:5e::/64'), never.networks())?.why ?? '', /own addresses/);
    assert.equal(protectedOverlap(target('198.18.9.0/24'), never.networks()), null);
    // The trap gets the ignore networks, the impossible sources and every host address.
    const trap = never.forKernelTrap();
    assert.deepEqual(trap.host, ['198.18.0.10', 'fd00:5e::10', '198.18.0.1', '198.18.0.53']);
    assert.ok(trap.ignore.some((n) => n.address === '198.18.7.0' && n.prefix === 24));
    assert.ok(
      trap.ignore.some((n) => n.address === '::ffff:0:0' && n.prefix === 96),
      'IPv4-mapped sources are never added by the kernel',
    );
  });

  it("protects the fleet's CrowdSec LAPI like a gateway: from scans (a spoofed one), blocks by hand and the kernel trap", () => {
    const never = new NeverBlock(IGNORE, { ...HOST, fleetServers: ['198.18.0.250', 'fd00:5e::250'] });
    assert.equal(never.reasonToIgnore('198.18.0.250', 4), 'fleet-server');
    assert.equal(never.reasonToIgnore('fd00:5e::250', 6), 'fleet-server');
    assert.match(protectedOverlap(target('198.18.0.248/29'), never.networks())?.why ?? '', /fleet's CrowdSec LAPI/);
    assert.ok(never.forKernelTrap().host.includes('198.18.0.250'));
    assert.ok(never.forKernelTrap().host.includes('fd00:5e::250'));
  });

  it('copies the host addresses it was given: a later change to them does not leak in', () => {
    const own = ['198.18.0.10'];
    const never = new NeverBlock([], { own });
    own.push('198.18.0.77');
    assert.equal(never.reasonToIgnore('198.18.0.77', 4), null);
    assert.deepEqual(never.forKernelTrap().host, ['198.18.0.10']);
  });
});

describe('on-link neighbours', () => {
  it("are the sources inside the host's interface networks, never protected for it", () => {
    const never = new NeverBlock([], { own: ['198.18.0.10', 'fd00:5e::a'], onLink: ['198.18.0.10/24', 'fd00:5e::a/64', 'not a network', '198.18.9.0/33'] });
    assert.equal(never.isOnLink('198.18.0.20', 4), true);
    assert.equal(never.isOnLink('fd00:5e::20', 6), true);
    assert.equal(never.isOnLink('198.18.1.20', 4), false);
    assert.equal(never.isOnLink('fd00:5f::20', 6), false);
    assert.equal(never.reasonToIgnore('198.18.0.20', 4), null);
    // The kernel trap gets them as networks with the host bits cleared; bad entries are dropped.
    assert.deepEqual(never.forKernelTrap().onLink, [
      { address: '198.18.0.0', family: 4, prefix: 24 },
      { address: 'fd00:5e::', family: 6, prefix: 64 },
    ]);
  });
});
