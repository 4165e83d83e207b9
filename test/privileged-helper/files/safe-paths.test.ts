// Paths root trusts or writes, tried with the tricks a local user has: a link of their own in a
// sticky directory (aimed at a root-only directory while the helper checks, and elsewhere when
// it writes), a root link in a directory they can write, and the plain cases that must pass.

import assert from 'node:assert/strict';
import { chmod, lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSafeDirectory, UnsafePathError, writeFileAtomically } from '../../../privileged-helper/files/safe-paths.js';

const NOBODY = 65534;

describe('safe paths: symlinks on the way', { skip: process.platform === 'win32' || process.geteuid?.() !== 0 ? 'needs root on a POSIX system' : false }, () => {
  let dir: string;
  let sticky: string;
  let rootOnly: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portsentry-safe-'));
    await chmod(dir, 0o755);
    sticky = join(dir, 'tmp');
    await mkdir(sticky);
    await chmod(sticky, 0o1777);
    rootOnly = join(dir, 'etc');
    await mkdir(join(rootOnly, 'state'), { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("refuses a directory reached through a user's own link in a sticky directory, and writes nothing there", async () => {
    const link = join(sticky, 'psd');
    await symlink(rootOnly, link);
    await lchown(link, NOBODY, NOBODY); // the user's: they may re-point it whenever they like
    await assert.rejects(assertSafeDirectory(join(link, 'state')), (error: Error) => error instanceof UnsafePathError && /symbolic link of uid 65534/.test(error.message));
    await assert.rejects(writeFileAtomically(join(link, 'state', 'history'), 'x\n', 0o600, 'history file'), UnsafePathError);
    await rm(link);
  });

  it('refuses a root link in a directory others can write (not sticky): anyone could swap it', async () => {
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    const link = join(open, 'psd');
    await symlink(rootOnly, link);
    await assert.rejects(assertSafeDirectory(join(link, 'state')), /which users other than root can write \(mode 0777\)/);
  });

  it("accepts root's own link in a sticky directory, and plain root-only paths", async () => {
    const link = join(sticky, 'rootlink');
    await symlink(rootOnly, link);
    await assertSafeDirectory(join(link, 'state'));
    await assertSafeDirectory(join(rootOnly, 'state'));
    await writeFile(join(rootOnly, 'state', 'plain'), '');
  });
});
