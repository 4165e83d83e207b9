// Reading the config and ignore files as root: an absent ignore list (even its directory, as
// on a fresh machine running the embedded defaults) is an empty list, while a file that is
// there but that others could have written, or a symlink, is refused with the reason.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../privileged-helper/config/conf-file.js';
import { loadConfig, loadIgnoreList } from '../../../privileged-helper/config/config-loader.js';

describe('config loader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-loader-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an ignore file whose directory does not exist is an empty list, not an error', async () => {
    assert.deepEqual(await loadIgnoreList(join(dir, 'no-such-dir', 'portsentry.ignore')), { entries: [], missing: true });
    assert.deepEqual(await loadIgnoreList(join(dir, 'absent.ignore')), { entries: [], missing: true });
  });

  it('refuses an ignore file or a config that users other than root can write, and a symlinked config', async () => {
    const ignore = join(dir, 'open.ignore');
    await writeFile(ignore, '198.18.0.1\n');
    await chmod(ignore, 0o666);
    await assert.rejects(loadIgnoreList(ignore), (error: unknown) => error instanceof ConfigError && /refused: .*can be written by users other than root \(mode 0666\)/.test(error.message));
    const conf = join(dir, 'real.conf');
    // Its own operator settings file: the default one under /var/lib is the host's, not the test's.
    await writeFile(conf, `TCP_PORTS="1"\nOPERATOR_SETTINGS_FILE="${join(dir, 'operator.conf')}"\n`);
    const link = join(dir, 'link.conf');
    await symlink(conf, link);
    await assert.rejects(loadConfig(link), (error: unknown) => error instanceof ConfigError && /symbolic link/.test(error.message));
    assert.deepEqual((await loadConfig(conf)).tcpPorts, [1]);
  });
});
