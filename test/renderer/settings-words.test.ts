// The settings window's words, on the BUILT renderer modules (what the window runs): a key in
// a sentence becomes its label, durations are shown and entered in human units and converted
// to the stored unit exactly, and the MODES text is split into a TCP and a UDP choice.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

interface DurationsModule {
  splitDuration(stored: string, unit: 'seconds' | 'days'): { amount: string; unit: string } | null;
  joinDuration(key: string, amount: string, unit: string): { ok: true; stored: string } | { ok: false; message: string };
  describeDuration(amount: bigint, unit: 'seconds' | 'days'): string;
}
interface WordsModule {
  inLabelWords(message: string): string;
  labelsOf(keys: readonly string[]): string[];
}
interface ModesModule {
  splitModes(text: string): { tcp: string; udp: string };
  joinModes(tcp: string, udp: string): string;
}

// A variable path: the main build must not compile renderer/ (it is built for the browser).
const built = (path: string) => new URL(`../../renderer/renderer/${path}`, import.meta.url).href;
const durations = (await import(built('settings/durations.js'))) as DurationsModule;
const words = (await import(built('settings/field-words.js'))) as WordsModule;
const modes = (await import(built('settings/modes-field.js'))) as ModesModule;

describe('settings window words', () => {
  it('names fields by their label, and leaves a key that is part of a command to type', () => {
    assert.equal(words.inLabelWords('SCAN_TRIGGER must be a whole number, not "lots"'), '“Touches before acting” must be a whole number, not "lots"');
    assert.equal(words.inLabelWords('TCP_PORTS: port 99999 is outside 1-65535'), '“TCP tripwire ports”: port 99999 is outside 1-65535');
    assert.equal(words.inLabelWords('BLOCK_BACKEND="command" needs a KILL_ROUTE command'), '“How to block” set to "command" needs a “Block command”');
    assert.equal(
      words.inLabelWords('KILL_ROUTE names a program, so only root may change it: run "sudo portsentryctl config set KILL_ROUTE=..."'),
      '“Block command” names a program, so only root may change it: run "sudo portsentryctl config set KILL_ROUTE=..."',
    );
    // A longer key is never read as a shorter one it starts with.
    assert.equal(words.inLabelWords('SCAN_TRIGGER_WINDOW must be between 1 and 2592000'), '“Counting window” must be between 1 and 2592000');
    assert.deepEqual(words.labelsOf(['SCAN_TRIGGER', 'MODES']), ['Touches before acting', 'Detection modes']);
  });

  it('shows stored durations in the largest exact unit', () => {
    assert.deepEqual(durations.splitDuration('3600', 'seconds'), { amount: '1', unit: 'hours' });
    assert.deepEqual(durations.splitDuration('5400', 'seconds'), { amount: '90', unit: 'minutes' });
    assert.deepEqual(durations.splitDuration('604800', 'seconds'), { amount: '7', unit: 'days' });
    assert.deepEqual(durations.splitDuration('61', 'seconds'), { amount: '61', unit: 'seconds' });
    assert.deepEqual(durations.splitDuration('90', 'days'), { amount: '90', unit: 'days' });
    assert.deepEqual(durations.splitDuration('0', 'seconds'), { amount: '0', unit: 'hours' });
  });

  it('converts typed durations to the stored unit exactly', () => {
    assert.deepEqual(durations.joinDuration('BLOCK_TIMEOUT', '1', 'hours'), { ok: true, stored: '3600' });
    assert.deepEqual(durations.joinDuration('BLOCK_TIMEOUT', '1.5', 'hours'), { ok: true, stored: '5400' });
    assert.deepEqual(durations.joinDuration('SCAN_TRIGGER_WINDOW', '30', 'minutes'), { ok: true, stored: '1800' });
    assert.deepEqual(durations.joinDuration('EVENT_RETENTION_DAYS', '7', 'days'), { ok: true, stored: '7' });
    assert.deepEqual(durations.joinDuration('BLOCK_TIMEOUT', '0', 'days'), { ok: true, stored: '0' });
  });

  for (const [key, amount, unit, message] of [
    ['BLOCK_TIMEOUT', '-5', 'minutes', 'Block lasts cannot be negative'],
    ['BLOCK_TIMEOUT', 'soon', 'hours', 'Block lasts: "soon" is not a number of hours (write e.g. 30 or 1.5)'],
    ['BLOCK_TIMEOUT', '', 'hours', 'Block lasts: enter a number of hours'],
    ['BLOCK_TIMEOUT', '1e9', 'hours', 'Block lasts: "1e9" is not a number of hours (write e.g. 30 or 1.5)'],
    ['BLOCK_TIMEOUT', '3651', 'days', 'Block lasts must be between 0 seconds and 3650 days, not 3651 days'],
    ['BLOCK_TIMEOUT', '999999999999999', 'days', 'Block lasts must be between 0 seconds and 3650 days, not 999999999999999 days'],
    ['BLOCK_TIMEOUT', '0.5', 'seconds', 'Block lasts: 0.5 seconds is not a whole number of seconds'],
    ['SCAN_TRIGGER_WINDOW', '0', 'minutes', 'Counting window must be between 1 second and 30 days, not 0 seconds'],
    ['SCAN_TRIGGER_WINDOW', '31', 'days', 'Counting window must be between 1 second and 30 days, not 31 days'],
    ['EVENT_RETENTION_DAYS', '12', 'hours', 'Keep events for: choose a unit (days)'],
    ['EVENT_RETENTION_DAYS', '0', 'days', 'Keep events for must be between 1 day and 36500 days, not 0 days'],
    ['EVENT_RETENTION_DAYS', '1.5', 'days', 'Keep events for: 1.5 days is not a whole number of days'],
  ] as const) {
    it(`refuses ${amount} ${unit} for ${key} in words`, () => {
      assert.deepEqual(durations.joinDuration(key, amount, unit), { ok: false, message });
    });
  }

  it('splits MODES into a TCP and a UDP choice and joins them back', () => {
    assert.deepEqual(modes.splitModes('tcp udp'), { tcp: 'tcp', udp: 'udp' });
    assert.deepEqual(modes.splitModes('tcp,udp'), { tcp: 'tcp', udp: 'udp' });
    assert.deepEqual(modes.splitModes('audp -atcp'), { tcp: 'atcp', udp: 'audp' });
    assert.deepEqual(modes.splitModes('stcp'), { tcp: 'stcp', udp: '' });
    assert.equal(modes.joinModes('atcp', 'udp'), 'atcp udp');
    assert.equal(modes.joinModes('', 'sudp'), 'sudp');
    assert.equal(modes.joinModes('', ''), '');
  });
});
