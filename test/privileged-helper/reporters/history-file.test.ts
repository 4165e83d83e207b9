// The history and blocked files as PortSentry 1.2 leaves them on disk.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HistoryWriter } from '../../../privileged-helper/reporters/history-file.js';

describe('history and blocked files', () => {
  it('blocked files are 0644 as 1.2 writes them (also one left 0600 by an earlier release); the history stays 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'history-unit-'));
    try {
      await writeFile(join(dir, 'blocked.udp'), 'old\n', { mode: 0o600 });
      await chmod(join(dir, 'blocked.udp'), 0o600);
      const writer = new HistoryWriter(join(dir, 'history'), join(dir, 'blocked'), (message) => assert.fail(message));
      await writer.resetBlockedFiles(['tcp', 'udp']);
      await writer.record({ at: 0, resolved: '198.18.0.3', source: '198.18.0.3', port: 1, protocol: 'TCP' }, 'tcp');
      const mode = async (name: string) => (await stat(join(dir, name))).mode & 0o777;
      assert.equal(await mode('blocked.tcp'), 0o644);
      assert.equal(await mode('blocked.udp'), 0o644);
      assert.equal(await mode('history'), 0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
