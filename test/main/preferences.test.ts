// GUI preferences through the real electron-store, in a temp dir. electron-store imports
// 'electron', which in plain Node resolves to the binary's path, or throws when the binary
// was never downloaded (as here); ELECTRON_OVERRIDE_DIST_PATH gives it a path to return, the
// same situation as a Node process on a machine where Electron is installed.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GuiPreferences } from '../../shared/desktop-api.js';
import { openPreferences } from '../../main/preferences.js';
import { PREFERENCE_DEFAULTS } from '../../main/preferences-schema.js';

process.env.ELECTRON_OVERRIDE_DIST_PATH ??= join(tmpdir(), 'no-electron-binary-here');

describe('preferences (electron-store)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-prefs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts from the defaults, writes changes to disk, and reads them back in a new instance', async () => {
    const store = await openPreferences({ cwd: dir });
    assert.deepEqual(store.get(), PREFERENCE_DEFAULTS);
    assert.equal(store.path, join(dir, 'preferences.json'));
    const seen: GuiPreferences[] = [];
    const stop = store.onChange((p) => seen.push(p));
    const updated = store.set({ notifications: 'blocks-only', quietStart: '22:30', quietEnd: '07:00' });
    assert.deepEqual(updated, { ...PREFERENCE_DEFAULTS, notifications: 'blocks-only', quietStart: '22:30', quietEnd: '07:00' });
    assert.equal(seen.length, 1);
    stop();
    const onDisk = JSON.parse(await readFile(store.path, 'utf8')) as GuiPreferences;
    assert.equal(onDisk.notifications, 'blocks-only');
    const again = await openPreferences({ cwd: dir });
    assert.deepEqual(again.get(), updated);
  });

  it('refuses invalid changes and writes nothing', async () => {
    const store = await openPreferences({ cwd: dir, name: 'strict' });
    const before = store.get();
    const bad: unknown[] = [{ theme: 'neon' }, { quietStart: '25:00' }, { quietEnd: '7:00' }, { startAtLogin: 'yes' }, { extra: 1 }, {}, { notifications: null }];
    for (const change of bad) assert.throws(() => store.set(change as never), Error, JSON.stringify(change));
    assert.deepEqual(store.get(), before);
  });

  it("electron-store's own JSON schema rejects what slips past the typed API", async () => {
    const store = await openPreferences({ cwd: dir, name: 'schema' });
    // Bypass the zod check: the store's schema must still hold the line.
    const { default: Store } = await import('electron-store');
    const raw = new Store({ cwd: dir, name: 'schema', schema: { theme: { type: 'string', enum: ['system', 'light', 'dark'] } } });
    assert.throws(() => raw.set('theme', 'neon'), /schema violation|must be equal to one of the allowed values/i);
    assert.equal(store.get().theme, 'system');
  });

  it('moves an invalid file aside and starts from the defaults; unparsable JSON is reset too', async () => {
    await writeFile(join(dir, 'broken.json'), JSON.stringify({ theme: 'neon', notifications: 'all' }));
    const resets: string[] = [];
    const store = await openPreferences({ cwd: dir, name: 'broken', onReset: (movedTo, reason) => resets.push(`${movedTo} ${reason}`) });
    assert.deepEqual(store.get(), PREFERENCE_DEFAULTS);
    assert.equal(resets.length, 1);
    assert.match(resets[0]!, /broken\.json\.invalid-\d+ .*theme/);
    assert.ok((await readdir(dir)).some((f) => f.startsWith('broken.json.invalid-')), 'the bad file is kept for the user');

    await writeFile(join(dir, 'garbage.json'), '{ not json');
    const garbage = await openPreferences({ cwd: dir, name: 'garbage', onReset: (movedTo) => resets.push(movedTo) });
    assert.deepEqual(garbage.get(), PREFERENCE_DEFAULTS);
    assert.match(resets[1] ?? '', /garbage\.json\.invalid-\d+$/);
  });

  it('ignores unknown keys in the file and insists on an absolute directory', async () => {
    await writeFile(join(dir, 'extra.json'), JSON.stringify({ ...PREFERENCE_DEFAULTS, theme: 'dark', legacy: 42 }));
    const store = await openPreferences({ cwd: dir, name: 'extra' });
    assert.deepEqual(store.get(), { ...PREFERENCE_DEFAULTS, theme: 'dark' });
    await assert.rejects(openPreferences({ cwd: 'relative/dir' }), /must be absolute/);
  });
});
