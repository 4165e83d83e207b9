// Who a scanner is, offline: main's network-owner lookup against the REAL shipped data (the
// ASN table npm run build makes from @ip-location-db/asn, the country MMDB of
// @ip-location-db/geo-whois-asn-country-mmdb). Data reads only: no network traffic. Private,
// reserved and lab ranges are "private network", never a guess; the IPC schema caps a call.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress, MAX_LOOKUPS_PER_CALL, NetworkOwners } from '../../main/network-owner.js';
import { MAX_NETWORK_LOOKUPS, parseParams } from '../../shared/ipc-schema.js';

describe('network owners from the shipped offline data', () => {
  const owners = NetworkOwners.shipped();

  it('knows well-known public addresses: ASN, organisation and country', () => {
    const [google, cloudflare, google6, quad9] = owners.lookup(['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '9.9.9.9']);
    assert.deepEqual([google?.asn, google?.country, google?.private], [15169, 'US', false]);
    assert.match(google?.org ?? '', /^Google/);
    assert.equal(cloudflare?.asn, 13335);
    assert.match(cloudflare?.org ?? '', /^Cloudflare/);
    assert.equal(google6?.asn, 15169);
    assert.equal(google6?.country, 'US');
    assert.equal(quad9?.asn, 19281);
  });

  it('says "private network" for private, reserved and lab addresses, and looks nothing up', () => {
    for (const address of ['198.18.0.12', '198.19.255.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '127.0.0.1', '100.64.0.1', 'fd00:5e::c', 'fc00::1', '::1', 'fe80::1']) {
      assert.ok(isPrivateAddress(address), address);
      assert.deepEqual(owners.lookup([address])[0], { address, private: true, country: null, asn: null, org: null });
    }
    for (const address of ['8.8.8.8', '2001:4860:4860::8888', '198.20.0.1', '11.0.0.1']) assert.equal(isPrivateAddress(address), false, address);
  });

  it('answers at most the cap per call, and the IPC schema refuses more or anything that is not an address', () => {
    assert.equal(MAX_LOOKUPS_PER_CALL, MAX_NETWORK_LOOKUPS);
    const many = Array.from({ length: MAX_NETWORK_LOOKUPS + 1 }, (_, i) => `8.8.${i}.8`);
    assert.equal(owners.lookup(many).length, MAX_LOOKUPS_PER_CALL);
    assert.equal(parseParams('lookupNetworks', many).success, false);
    assert.equal(parseParams('lookupNetworks', []).success, false);
    assert.equal(parseParams('lookupNetworks', ['$(reboot)']).success, false);
    assert.equal(parseParams('lookupNetworks', ['8.8.8.8']).success, true);
  });
});
