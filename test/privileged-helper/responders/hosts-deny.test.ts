import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendHostsDenyLine, removeHostsDenyLine } from '../../../privileged-helper/responders/hosts-deny.js';

describe('hosts.deny writer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hosts-deny-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the file, appends, and never duplicates a line, even under concurrent calls', async () => {
    const file = join(dir, 'a.deny');
    const results = await Promise.all(Array.from({ length: 20 }, () => appendHostsDenyLine(file, 'ALL: 198.18.0.1 : DENY')));
    assert.equal(results.filter(Boolean).length, 1);
    await appendHostsDenyLine(file, 'ALL: [fd00::1] : DENY');
    assert.equal(await readFile(file, 'utf8'), 'ALL: 198.18.0.1 : DENY\nALL: [fd00::1] : DENY\n');
  });

  it("keeps the admin's lines and adds a newline when the file lacks one", async () => {
    const file = join(dir, 'b.deny');
    await writeFile(file, '# admin\nsshd: 10.0.0.1');
    await appendHostsDenyLine(file, 'ALL: 198.18.0.2 : DENY');
    assert.equal(await readFile(file, 'utf8'), '# admin\nsshd: 10.0.0.1\nALL: 198.18.0.2 : DENY\n');
  });

  it('removes exactly the line and keeps the file mode', async () => {
    const file = join(dir, 'c.deny');
    await writeFile(file, '# admin\nALL: 198.18.0.3 : DENY\nsshd: 10.0.0.1\n');
    await chmod(file, 0o640);
    assert.equal(await removeHostsDenyLine(file, 'ALL: 198.18.0.3 : DENY'), true);
    assert.equal(await removeHostsDenyLine(file, 'ALL: 198.18.0.3 : DENY'), false);
    assert.equal(await readFile(file, 'utf8'), '# admin\nsshd: 10.0.0.1\n');
    assert.equal((await stat(file)).mode & 0o777, 0o640);
  });

  it('refuses multi-line or empty entries', async () => {
    const file = join(dir, 'd.deny');
    assert.throws(() => appendHostsDenyLine(file, 'ALL: 1.2.3.4 : DENY\nALL: ALL'), /one non-empty line/);
    assert.throws(() => appendHostsDenyLine(file, ''), /one non-empty line/);
  });

  it('reports an unwritable location', async () => {
    await assert.rejects(appendHostsDenyLine(join(dir, 'missing-dir', 'x.deny'), 'ALL: 198.18.0.4 : DENY'), /no such directory/);
  });
});
