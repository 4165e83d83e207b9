// GUI preferences through the real electron-store, in a temp dir. electron-store imports
// 'electron', which in plain Node resolves to the binary's path, or throws when the binary
// was never downloaded (as here); ELECTRON_OVERRIDE_DIST_PATH gives it a path to return, the
// same situation as a Node process on a machine where Electron is installed.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { GuiPreferences } from '../../shared/desktop-api.js';
import { mayMoveAside, openPreferences } from '../../main/preferences.js';
import { PREFERENCE_DEFAULTS } from '../../main/preferences-schema.js';

process.env.ELECTRON_OVERRIDE_DIST_PATH ??= join(tmpdir(), 'no-electron-binary-here');
const run = promisify(execFile);

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
    assert.ok(
      (await readdir(dir)).some((f) => f.startsWith('broken.json.invalid-')),
      'the bad file is kept for the user',
    );

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

// A store that cannot be written is not a bad file. On a full disk (a real tmpfs of 64 KiB,
// filled up: needs root to mount) the defaults cannot be written out: a readable file must
// stay where it is, and a missing one must not be "moved aside" (which used to fail with
// ENOENT from rename and hide the real error).
describe('preferences on a full disk', { skip: process.getuid?.() !== 0 && 'mounting a tmpfs needs root' }, () => {
  let dir: string;
  let mounted = false;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-prefs-full-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir]);
    mounted = true;
    // A user's own preferences, valid but without every key (electron-store then writes the defaults in).
    await writeFile(join(dir, 'mine.json'), JSON.stringify({ theme: 'dark', quietStart: '23:00' }));
    await mkdir(join(dir, 'folder.json'));
    await writeFile(join(dir, 'filler'), Buffer.alloc(256 * 1024)).catch((error: NodeJS.ErrnoException) => assert.equal(error.code, 'ENOSPC'));
  });
  after(async () => {
    if (mounted) await run('umount', [dir]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('opens a readable file there without writing, and leaves it as it is', async () => {
    const resets: string[] = [];
    const store = await openPreferences({ cwd: dir, name: 'mine', onReset: (movedTo) => resets.push(movedTo) });
    assert.equal(store.get().theme, 'dark');
    assert.deepEqual(resets, []);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'mine.json'), 'utf8')), { theme: 'dark', quietStart: '23:00' });
  });

  it('never moves a readable file aside for a failure that is not its content', async () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    assert.equal(await mayMoveAside(full, join(dir, 'mine.json')), false, 'a readable file stays');
    assert.equal(await mayMoveAside(full, join(dir, 'absent.json')), false, 'a missing file is not renamed');
    assert.equal(await mayMoveAside(new SyntaxError('Unexpected token'), join(dir, 'mine.json')), true, "unparsable content is the file's fault");
    assert.equal(await mayMoveAside(new Error('Config schema violation: `theme` must be equal to one of the allowed values'), join(dir, 'mine.json')), true);
    assert.equal(await mayMoveAside(full, join(dir, 'folder.json')), true, 'there but unreadable');
  });

  it('reports the real error when there is no file to move aside', async () => {
    const resets: string[] = [];
    await assert.rejects(openPreferences({ cwd: dir, name: 'absent', onReset: (movedTo) => resets.push(movedTo) }), (error: NodeJS.ErrnoException) => error.code === 'ENOSPC');
    assert.deepEqual(resets, []);
  });

  it('still moves aside a file that is there but cannot be read', async () => {
    const resets: string[] = [];
    // folder.json is a directory: reading it fails (EISDIR); after the move the defaults cannot be written either.
    await assert.rejects(openPreferences({ cwd: dir, name: 'folder', onReset: (movedTo) => resets.push(movedTo) }), /ENOSPC/);
    assert.equal(resets.length, 1);
    assert.match(resets[0]!, /folder\.json\.invalid-\d+$/);
  });
});
