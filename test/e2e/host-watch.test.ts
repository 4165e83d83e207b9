// The host watcher against the real sources: `ip monitor` inside a namespace this test makes,
// and a real directory whose resolv.conf is replaced the way resolvers replace it. The re-read
// timers are set to a day, so only the event itself can make a change heard.

import { strict as assert } from 'node:assert';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { watchHostChanges, type HostWatchHandle } from '../../privileged-helper/never-block/host-watch.js';
import { createLab, type Lab } from '../support/netns-lab.js';

const DAY_MS = 86_400_000;

/** Counts onChange calls; `next()` resolves at the next one (or at the 30 s safety net, with false). */
function changes() {
  let count = 0;
  let waiting: ((heard: boolean) => void) | null = null;
  return {
    onChange: () => {
      count++;
      waiting?.(true);
      waiting = null;
    },
    get count() {
      return count;
    },
    next(timeoutMs = 30_000): Promise<boolean> {
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        waiting = (heard) => {
          clearTimeout(timer);
          resolve(heard);
        };
      });
    },
  };
}

describe('host watch: address, route and resolver changes are heard as they happen', () => {
  let lab: Lab<'host'>;
  let dir: string;
  before(async () => {
    lab = await createLab(['host']);
    dir = await mkdtemp(join(tmpdir(), 'ps-host-watch-'));
  });
  after(async () => {
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('hears an address added and a route added in the namespace (netlink), with no polling', async () => {
    const seen = changes();
    const host = lab.hosts.host;
    const watch: HostWatchHandle = watchHostChanges({
      files: [],
      onChange: seen.onChange,
      monitor: ['ip', 'netns', 'exec', host.netns, 'ip', '-o', 'monitor', 'address', 'route'],
      pollFallbackMs: DAY_MS,
      backstopMs: DAY_MS,
    });
    try {
      // The monitor says nothing when it is ready: change the address until one is heard
      // (each try a new address; the verdict is that a change is heard at all).
      let heard = false;
      for (let attempt = 0; attempt < 30 && !heard; attempt++) {
        const next = seen.next(1000);
        await lab.exec(host, ['ip', 'addr', 'add', `198.18.1.${attempt + 1}/32`, 'dev', 'lo']);
        heard = await next;
      }
      assert.ok(heard, 'no address change was heard');
      const route = seen.next();
      await lab.exec(host, ['ip', 'route', 'add', '198.18.2.0/24', 'via', '198.18.0.1']);
      assert.ok(await route, 'a new route (a new gateway) was not heard');
    } finally {
      watch.stop();
    }
  });

  it('hears resolv.conf replaced by rename in a watched directory', async () => {
    const seen = changes();
    const file = join(dir, 'resolv.conf');
    await writeFile(file, 'nameserver 198.18.0.53\n');
    const watch = watchHostChanges({ files: [file], onChange: seen.onChange, monitor: ['sleep', '3600'], pollFallbackMs: DAY_MS, backstopMs: DAY_MS });
    try {
      const next = seen.next();
      await writeFile(join(dir, 'resolv.conf.new'), 'nameserver 198.18.0.54\n');
      await rename(join(dir, 'resolv.conf.new'), file);
      assert.ok(await next, 'replacing resolv.conf was not heard');
    } finally {
      watch.stop();
    }
  });

  it('falls back to reading again on a timer where the monitor cannot run', async () => {
    const seen = changes();
    const watch = watchHostChanges({ files: [], onChange: seen.onChange, monitor: ['/nonexistent/ip-monitor'], pollFallbackMs: 50, backstopMs: DAY_MS });
    try {
      assert.ok(await seen.next(), 'no re-read without the monitor');
      assert.ok(await seen.next(), 'the re-reads did not go on');
    } finally {
      watch.stop();
    }
  });
});
