// A reload asked for while one runs must be answered by a reload that starts after the
// request: config.set writes the file, then asks, and must not be told "applied" by a reload
// that read the file before the write (which is what sharing the running one did).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalesceReloads } from '../../../privileged-helper/config/coalesce-reloads.js';

/** A reload whose runs finish when the test says, each reading the "file" when it starts. */
function controlledReload() {
  let file = 'old';
  const runs: { read: string; finish: (ok: boolean) => void }[] = [];
  const reload = () =>
    new Promise<boolean>((resolve) => {
      runs.push({ read: file, finish: resolve });
    });
  return { runs, reload, write: (text: string) => (file = text) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('coalesceReloads', () => {
  it('answers a caller who asked during a reload from a later reload, which read what it wrote', async () => {
    const { runs, reload, write } = controlledReload();
    const reloadOnce = coalesceReloads(reload);
    const sighup = reloadOnce();
    assert.equal(runs.length, 1);
    write('new'); // config.set writes while the SIGHUP reload runs, then asks
    let answered = false;
    const configSet = reloadOnce().then((ok) => ((answered = true), ok));
    await tick();
    assert.equal(runs.length, 1, 'one reload at a time');
    assert.equal(answered, false, 'not answered by the reload that read the old file');
    runs[0]!.finish(true);
    assert.equal(await sighup, true);
    await tick();
    assert.equal(runs.length, 2, 'a second reload starts once the first has finished');
    assert.equal(runs[1]!.read, 'new');
    runs[1]!.finish(false);
    assert.equal(await configSet, false, "the caller gets the later reload's answer");
  });

  it('shares one later reload among everyone who asked meanwhile, and starts afresh when idle', async () => {
    const { runs, reload } = controlledReload();
    const reloadOnce = coalesceReloads(reload);
    const first = reloadOnce();
    const waiting = [reloadOnce(), reloadOnce(), reloadOnce()];
    assert.equal(waiting[0], waiting[1]);
    assert.equal(waiting[1], waiting[2]);
    runs[0]!.finish(true);
    await first;
    await tick();
    assert.equal(runs.length, 2, 'three callers, one more reload');
    runs[1]!.finish(true);
    assert.deepEqual(await Promise.all(waiting), [true, true, true]);
    const later = reloadOnce();
    assert.equal(runs.length, 3, 'idle again: a new request starts at once');
    runs[2]!.finish(true);
    assert.equal(await later, true);
  });
});
