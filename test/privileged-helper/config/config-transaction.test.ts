// A settings change as one transaction: where each key goes, checked as the loader reads it,
// and put back whole when the running helper cannot apply it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConfigChange, ConfigChangeError, planConfigChange } from '../../../privileged-helper/config/config-transaction.js';

const MAIN = 'TCP_PORTS="1,31337"\nUDP_PORTS="1,31337"\nNFT_TABLE="portsentry"\n';
const files = { mainPath: '/etc/ps/portsentry.conf', operatorPath: '/var/lib/ps/operator-settings.conf' };

describe('config transaction', () => {
  it('sends tunables to the operator settings file and root keys to root file, and names what changes', () => {
    const plan = planConfigChange({ SCAN_TRIGGER: '2', NFT_TABLE: 'other' }, { main: MAIN, operator: '' }, files, true);
    assert.deepEqual(plan.changed.sort(), ['NFT_TABLE', 'SCAN_TRIGGER']);
    const byFile = new Map(plan.writes.map((w) => [w.file, w]));
    assert.match(byFile.get(files.operatorPath)!.after, /^SCAN_TRIGGER="2"$/m);
    assert.doesNotMatch(byFile.get(files.operatorPath)!.after, /NFT_TABLE/);
    assert.match(byFile.get(files.mainPath)!.after, /^NFT_TABLE="other"$/m);
    assert.equal(byFile.get(files.mainPath)!.before, MAIN);
  });

  it('refuses, with the file and line, a value the loader would refuse, and writes nothing', () => {
    assert.throws(
      () => planConfigChange({ SCAN_TRIGGER: 'many' }, { main: MAIN, operator: '' }, files, true),
      (error: unknown) => error instanceof ConfigChangeError && error.kind === 'invalid' && /operator-settings\.conf:\d+: .*SCAN_TRIGGER/.test(error.message),
    );
  });

  it('refuses modes whose ports are not set, and root keys on the embedded defaults', () => {
    assert.throws(() => planConfigChange({ MODES: 'tcp', TCP_PORTS: '' }, { main: MAIN, operator: '' }, files, true), /TCP_PORTS lists no ports/);
    assert.throws(() => planConfigChange({ NFT_TABLE: 'x' }, { main: MAIN, operator: '' }, { mainPath: null, operatorPath: files.operatorPath }, true), /embedded defaults/);
  });

  it('puts every file back and reloads again when the running helper refuses the change', async () => {
    const disk = new Map<string, string>([[files.mainPath, MAIN]]);
    const reloads: string[] = [];
    const plan = planConfigChange({ SCAN_TRIGGER: '2', NFT_TABLE: 'other' }, { main: MAIN, operator: '' }, files, true);
    let first = true;
    await assert.rejects(
      applyConfigChange(plan, {
        write: async (file, text) => void disk.set(file, text),
        reload: async () => {
          reloads.push(disk.get(files.mainPath)!);
          const ok = !first;
          first = false;
          return ok;
        },
      }),
      (error: unknown) => error instanceof ConfigChangeError && error.kind === 'not-applied',
    );
    assert.equal(disk.get(files.mainPath), MAIN);
    assert.equal(disk.get(files.operatorPath), '');
    assert.equal(reloads.length, 2);
  });

  it('names no key when a value is set to what it already is, and an empty plan touches nothing', async () => {
    assert.deepEqual(planConfigChange({ TCP_PORTS: '1,31337' }, { main: MAIN, operator: '' }, files, true).changed, []);
    let touched = false;
    await applyConfigChange({ changed: [], writes: [] }, { write: async () => void (touched = true), reload: async () => (touched = true) });
    assert.equal(touched, false);
  });
});
