import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { planBlocks, responsePlan } from '../../../privileged-helper/responders/response-plan.js';

const full = 'KILL_HOSTS_DENY="ALL: $TARGET$"\nKILL_RUN_CMD="/bin/true $TARGET$"\n';

describe('response plan (BLOCK_TCP / BLOCK_UDP)', () => {
  it('1: hosts.deny and firewall together, then the command', () => {
    const config = parseConfig(`BLOCK_TCP="1"\n${full}`, 'f');
    assert.deepEqual(responsePlan(config, 'tcp'), [['hosts-deny', 'firewall'], ['run-command']]);
    assert.equal(planBlocks(responsePlan(config, 'tcp')), true);
  });
  it('1 with KILL_RUN_CMD_FIRST: the command first', () => {
    const config = parseConfig(`BLOCK_UDP="1"\nKILL_RUN_CMD_FIRST="1"\n${full}`, 'f');
    assert.deepEqual(responsePlan(config, 'udp'), [['run-command'], ['hosts-deny', 'firewall']]);
  });
  it('2: only the command', () => {
    const config = parseConfig(`BLOCK_TCP="2"\n${full}`, 'f');
    assert.deepEqual(responsePlan(config, 'tcp'), [['run-command']]);
    assert.equal(planBlocks(responsePlan(config, 'tcp')), false);
  });
  it('2 without a command: nothing', () => {
    assert.deepEqual(responsePlan(parseConfig('BLOCK_TCP="2"', 'f'), 'tcp'), []);
  });
  it('0: report only, per protocol', () => {
    const config = parseConfig(`BLOCK_TCP="0"\nBLOCK_UDP="1"\n${full}`, 'f');
    assert.deepEqual(responsePlan(config, 'tcp'), []);
    assert.notDeepEqual(responsePlan(config, 'udp'), []);
  });
  it('backend none and no extras: nothing to run', () => {
    assert.deepEqual(responsePlan(parseConfig('BLOCK_TCP="1"\nBLOCK_BACKEND="none"', 'f'), 'tcp'), []);
  });
  it('firewall only by default', () => {
    assert.deepEqual(responsePlan(parseConfig('BLOCK_TCP="1"', 'f'), 'tcp'), [['firewall']]);
  });
});
