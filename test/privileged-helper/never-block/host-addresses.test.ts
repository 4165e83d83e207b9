import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NeverBlock } from '../../../privileged-helper/never-block/never-block.js';
import {
  hostAddresses,
  onLinkNetworks,
  parseIpv4RouteGateways,
  parseIpv6RouteGateways,
  parseResolvConfNameservers,
  readProtectedAddresses,
  SYSTEM_PROTECTED_ADDRESS_FILES,
} from '../../../privileged-helper/never-block/host-addresses.js';

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
    const policy = new NeverBlock([], { own: ['198.18.0.10'], gateways: ['198.18.0.1'], resolvers: ['198.18.0.53'] });
    assert.equal(policy.reasonToIgnore('198.18.0.1', 4), 'gateway');
    assert.equal(policy.reasonToIgnore('198.18.0.53', 4), 'dns-resolver');
    assert.equal(policy.reasonToIgnore('198.18.0.10', 4), 'own-address');
    assert.equal(policy.reasonToIgnore('198.18.0.11', 4), null);
  });
});

describe('resolvers behind systemd-resolved, re-read when the files change', () => {
  it('reads the upstream list of systemd-resolved besides /etc/resolv.conf', () => {
    assert.deepEqual(SYSTEM_PROTECTED_ADDRESS_FILES.resolvConfs, ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']);
  });

  it('stub mode: the stub and the upstream servers are both protected; a change of upstream is seen on the next read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'resolvers-'));
    try {
      const files = {
        ipv4Routes: join(dir, 'route'),
        ipv6Routes: join(dir, 'ipv6_route'),
        resolvConfs: [join(dir, 'stub-resolv.conf'), join(dir, 'upstream-resolv.conf')],
      };
      await writeFile(files.ipv4Routes, ROUTE);
      await writeFile(files.resolvConfs[0]!, '# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n');
      await writeFile(files.resolvConfs[1]!, '# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).\nnameserver 198.18.0.53\nnameserver fd00:5e::53\n');
      const first = await readProtectedAddresses(files);
      assert.deepEqual(first.resolvers, ['127.0.0.53', '198.18.0.53', 'fd00:5e::53']);
      assert.deepEqual(first.gateways, ['198.18.0.1']);

      // DHCP hands out a new server: resolved rewrites its file.
      await writeFile(files.resolvConfs[1]!, 'nameserver 198.18.0.54\n');
      const second = await hostAddresses(files);
      assert.deepEqual([...(second.resolvers ?? [])], ['127.0.0.53', '198.18.0.54']);
      const policy = new NeverBlock([], second);
      assert.equal(policy.reasonToIgnore('198.18.0.54', 4), 'dns-resolver');
      assert.equal(policy.reasonToIgnore('198.18.0.53', 4), null, 'the old server is no longer protected');

      // Without resolved (no upstream file) only the system list counts, and nothing fails.
      await rm(files.resolvConfs[1]!);
      assert.deepEqual((await readProtectedAddresses(files)).resolvers, ['127.0.0.53']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('onLinkNetworks', () => {
  it("lists the interfaces' networks, without loopback and IPv6 link-local", () => {
    const entry = (address: string, cidr: string, internal = false) => ({
      address,
      cidr,
      internal,
      netmask: '',
      family: address.includes(':') ? ('IPv6' as const) : ('IPv4' as const),
      mac: '00:00:00:00:00:00',
      scopeid: 0,
    });
    assert.deepEqual(
      onLinkNetworks({ lo: [entry('127.0.0.1', '127.0.0.1/8', true)], eth0: [entry('198.18.0.10', '198.18.0.10/24'), entry('fe80::1', 'fe80::1/64'), entry('fd00:5e::a', 'fd00:5e::a/64')] }),
      ['198.18.0.10/24', 'fd00:5e::a/64'],
    );
  });
});
