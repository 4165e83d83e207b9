// Start-up: the tripwires are bound before the firewall, the store and capture are up, and a
// probe that arrives in between is not lost: it is handled (logged, blocked) once they are.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { createLab, tcpReachable, type Lab, type LabHost } from '../support/netns-lab.js';

const TABLE = 'psstart';
const SCANNERS = ['s1', 's2', 's3'] as const;

describe('a probe during start-up is handled once the daemon is up', { timeout: 240_000 }, () => {
  let lab: Lab;
  let dir: string;
  const h = (name: string): LabHost => lab.hosts[name]!;

  before(async () => {
    lab = await createLab(['target', ...SCANNERS]);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-startup-'));
    await writeFile(join(dir, 'ignore'), '');
    await writeFile(join(dir, 'portsentry.conf'), helperConfigText(dir, { TCP_PORTS: '143,31337', UDP_PORTS: '161', SCAN_TRIGGER: '0', NFT_TABLE: TABLE }));
  });

  after(async () => {
    await lab?.exec(h('target'), ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('a connect that the tripwire accepted before "active and listening" ends in a block', async () => {
    let inWindow = 0;
    // Each attempt restarts the daemon and connects as soon as the port answers. Only a
    // connect made before the daemon said it was up tests the window; on a very fast start
    // an attempt may miss it, so there are three.
    for (const name of SCANNERS) {
      const scanner = h(name);
      const daemon = startDaemon(lab, h('target'), ['-c', join(dir, 'portsentry.conf'), '-tcp', '-udp']);
      try {
        let connected = false;
        const deadline = Date.now() + 30_000;
        while (!connected && Date.now() < deadline) connected = await tcpReachable(lab, scanner, h('target').v4, 31337, 1);
        assert.ok(connected, `the tripwire never answered:\n${daemon.lines.join('\n')}`);
        const early = !daemon.lines.some((l) => l.includes('now active and listening'));
        if (early) inWindow += 1;
        await daemon.waitFor('now active and listening');
        await daemon.waitFor(new RegExp(`Connect from host: ${scanner.v4.replace(/\./g, '\\.')}/`));
        const deadlineBlock = Date.now() + 15_000;
        while (!(await blockedSetsText(lab, h('target'), TABLE)).includes(scanner.v4)) {
          if (Date.now() > deadlineBlock) assert.fail(`${name} was not blocked:\n${daemon.lines.join('\n')}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await daemon.stop();
      }
    }
    assert.ok(inWindow >= 1, 'at least one connect landed before the daemon was fully up');
  });
});
