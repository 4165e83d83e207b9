// The fleet and metrics keys: off by default, and values that could smuggle credentials,
// a query or a hostname into a URL, or a secret with spaces, are refused at parse time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../privileged-helper/config/conf-file.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { fleetSettingsOf } from '../../../privileged-helper/fleet/fleet-sync.js';

const parse = (lines: string) => parseConfig(lines, '/t.conf');

describe('fleet and metrics config keys', () => {
  it('are off by default', () => {
    const config = parse('');
    assert.equal(fleetSettingsOf(config), null);
    assert.equal(config.fleetSharing, false);
    assert.equal(config.metricsAddress, '');
  });

  it('accept a plain LAPI URL and canonical listen address', () => {
    const config = parse('FLEET_LAPI_URL="https://lapi.example:8080/"\nMETRICS_ADDRESS="::ffff:198.18.0.1"\nFLEET_SHARING="1"\n');
    assert.equal(config.fleetLapiUrl, 'https://lapi.example:8080');
    assert.equal(config.metricsAddress, '198.18.0.1');
    assert.equal(fleetSettingsOf(config)?.sharing, true);
  });

  it('refuse URLs with credentials, queries, other schemes, and bad names or secrets', () => {
    for (const line of [
      'FLEET_LAPI_URL="http://user:pw@lapi:8080"',
      'FLEET_LAPI_URL="http://lapi:8080/?x=1"',
      'FLEET_LAPI_URL="http://lapi:8080/#x"',
      'FLEET_LAPI_URL="file:///etc/shadow"',
      'FLEET_LAPI_URL="lapi:8080"',
      'FLEET_MACHINE_PASSWORD="has space"',
      'FLEET_BOUNCER_KEY="tab\there"',
      'FLEET_MACHINE_ID="a/b"',
      'FLEET_SCENARIO="PortSentry"',
      'FLEET_ORIGIN="Crowd Sec"',
      'FLEET_DECISION_DURATION="59"',
      'METRICS_ADDRESS="localhost"',
      'METRICS_ADDRESS="0.0.0.0/0"',
      'METRICS_PORT="0"',
    ]) {
      assert.throws(() => parse(`${line}\n`), ConfigError, line);
    }
  });
});
