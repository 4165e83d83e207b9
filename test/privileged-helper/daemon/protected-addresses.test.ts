import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IgnorePolicy } from '../../../privileged-helper/config/ignore-list.js';
import { parseIpv4RouteGateways, parseIpv6RouteGateways, parseResolvConfNameservers } from '../../../privileged-helper/daemon/protected-addresses.js';

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010012C6\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
garbage line
`;
const ROUTE6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd00005e000000000000000000000001 00000400 00000002 00000000 00000003     eth0
short
`;

describe('protected addresses', () => {
  it('reads IPv4 gateways from /proc/net/route (little-endian hex)', () => {
    assert.deepEqual(parseIpv4RouteGateways(ROUTE), ['198.18.0.1']);
  });
  it('reads IPv6 next hops from /proc/net/ipv6_route', () => {
    assert.deepEqual(parseIpv6RouteGateways(ROUTE6), ['fd00:5e::1']);
  });
  it('reads nameservers, skipping junk and zone ids', () => {
    assert.deepEqual(parseResolvConfNameservers('# c\nnameserver 198.18.0.53\nnameserver fe80::1%eth0\nnameserver bogus\nsearch x\n'), ['198.18.0.53', 'fe80::1']);
  });
  it('the never-block policy names gateways and resolvers', () => {
    const policy = new IgnorePolicy([], { own: ['198.18.0.10'], gateways: ['198.18.0.1'], resolvers: ['198.18.0.53'] });
    assert.equal(policy.reasonToIgnore('198.18.0.1', 4), 'gateway');
    assert.equal(policy.reasonToIgnore('198.18.0.53', 4), 'dns-resolver');
    assert.equal(policy.reasonToIgnore('198.18.0.10', 4), 'own-address');
    assert.equal(policy.reasonToIgnore('198.18.0.11', 4), null);
  });
});
