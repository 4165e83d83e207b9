// MODES: which detection modes portsentryd runs without mode flags. Known modes only, at
// most one TCP and one UDP mode, the default what PortSentry 1.2's service ran (-tcp -udp).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkKeyValue, CONFIG_KEYS, modeList } from '../../../shared/domain/config-keys.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { ConfigError } from '../../../privileged-helper/config/conf-file.js';

describe('the MODES key', () => {
  it('defaults to tcp udp and is an operator tunable', () => {
    assert.equal(CONFIG_KEYS.MODES.defaultText, 'tcp udp');
    assert.equal(CONFIG_KEYS.MODES.access, 'operator');
    assert.deepEqual(parseConfig('', 'p.conf').modes, ['tcp', 'udp']);
  });
  it('takes words or commas, with or without the dash of the flag', () => {
    assert.deepEqual(modeList('atcp audp', 'MODES'), ['atcp', 'audp']);
    assert.deepEqual(modeList(' stcp,udp ', 'MODES'), ['stcp', 'udp']);
    assert.deepEqual(modeList('-sudp', 'MODES'), ['sudp']);
    assert.deepEqual(parseConfig('MODES="atcp udp"\n', 'p.conf').modes, ['atcp', 'udp']);
  });
  for (const [bad, why] of [
    ['', /at least one mode/],
    ['   ', /at least one mode/],
    ['tcp stcp', /one TCP mode, not both tcp and stcp/],
    ['udp audp', /one UDP mode, not both udp and audp/],
    ['tcp tcp', /names tcp twice/],
    ['xtcp', /"xtcp" is not a mode/],
    ['tcp;reboot', /is not a mode/],
    ['constructor', /is not a mode/],
  ] as const) {
    it(`refuses ${JSON.stringify(bad)} with the reason`, () => {
      assert.match(checkKeyValue('MODES', bad) ?? 'accepted', why);
    });
  }
  it('a bad MODES in a file is file:line', () => {
    assert.throws(
      () => parseConfig('SCAN_TRIGGER="0"\nMODES="tcp atcp"\n', 'p.conf'),
      (error: Error) => error instanceof ConfigError && /^p\.conf:2: MODES may hold one TCP mode/.test(error.message),
    );
  });
});
