// The nftables backend against the real nft, inside a namespace of its own.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NftablesBackend, parseElementLine, parseNftDuration } from '../../../privileged-helper/firewall/nftables-backend.js';
import { BlockError } from '../../../privileged-helper/firewall/block-backend.js';

const run = promisify(execFile);
const NS = `psnft${process.pid}`;
const nftInNs = ['ip', 'netns', 'exec', NS, 'nft'] as const;

async function nft(...args: string[]): Promise<string> {
  return String((await run('ip', ['netns', 'exec', NS, 'nft', ...args])).stdout);
}

describe('NftablesBackend (real nft in a namespace)', { timeout: 60_000 }, () => {
  before(async () => {
    await run('ip', ['netns', 'add', NS]);
  });
  after(async () => {
    await run('ip', ['netns', 'delete', NS]).catch(() => undefined);
  });

  it('creates its table with two sets and one drop rule each, idempotently', async () => {
    const backend = new NftablesBackend({ table: 'ps_a', nftCommand: nftInNs });
    await backend.start();
    await backend.block('198.18.5.1');
    await backend.start(); // a restart keeps the elements and does not duplicate rules
    await backend.stop();
    const table = await nft('list', 'table', 'inet', 'ps_a');
    assert.equal(table.match(/ip saddr @blocked4 counter .* drop/g)?.length, 1);
    assert.equal(table.match(/ip6 saddr & ffff:ffff:ffff:ffff:: == @blocked6 counter .* drop/g)?.length, 1);
    assert.equal(table.match(/size 1000000/g)?.length, 5, "every set sized for a million, not nft's implicit 65,535");
    assert.match(table, /hook prerouting priority raw/);
    assert.match(table, /198\.18\.5\.1/);
    await backend.remove();
  });

  it('describes each block as the nft command that makes the same element, which nft runs as written', async () => {
    const backend = new NftablesBackend({ table: 'ps_desc', nftCommand: nftInNs });
    await backend.start();
    try {
      const cases: Array<[string, number | undefined, string]> = [
        ['198.18.5.9', 3600, 'nft add element inet ps_desc blocked4 { 198.18.5.9 timeout 3600s }'],
        ['FD00:5E:1:2::/64', undefined, 'nft add element inet ps_desc blocked6 { fd00:5e:1:2:: }'],
        ['FD00:5E:1:2::9', 30, 'nft add element inet ps_desc blocked6_hosts { fd00:5e:1:2::9 timeout 30s }'],
        ['198.18.66.0/24', 60, 'nft add element inet ps_desc blocked4_nets { 198.18.66.0/24 timeout 60s }'],
        ['fd00:99::/48', undefined, 'nft add element inet ps_desc blocked6_nets { fd00:99::/48 }'],
      ];
      for (const [target, timeoutSeconds, expected] of cases) {
        const options = timeoutSeconds === undefined ? {} : { timeoutSeconds };
        const described = backend.describeBlock(target, options);
        assert.equal(described, expected);
        assert.doesNotMatch(described, /^nftables /, 'a command that exists, not "nftables add element"');
        // Truthful: the described command, run by nft itself, makes the element block() makes.
        const [, ...words] = described.split(' ');
        await nft(...words.join(' ').split(' '));
        const set = described.split(' ')[5]!;
        const byCommand = await nft('list', 'set', 'inet', 'ps_desc', set);
        await nft('flush', 'set', 'inet', 'ps_desc', set);
        await backend.block(target, options);
        const byBackend = await nft('list', 'set', 'inet', 'ps_desc', set);
        const element = (text: string) => /elements = \{ (\S+)/.exec(text)?.[1];
        assert.ok(element(byCommand) !== undefined, `${described} made an element`);
        assert.equal(element(byCommand), element(byBackend));
        assert.equal(/timeout (\d+)s/.exec(byCommand)?.[1], /timeout (\d+)s/.exec(byBackend)?.[1]);
      }
    } finally {
      await backend.remove();
    }
  });

  it('blocks and unblocks IPv4 and IPv6, and both are idempotent', async () => {
    const backend = new NftablesBackend({ table: 'ps_b', nftCommand: nftInNs });
    await backend.start();
    await backend.block('198.18.5.2');
    await backend.block('198.18.5.2');
    await backend.block('FD00:5E::0002');
    assert.deepEqual((await backend.list()).sort(), ['198.18.5.2', 'fd00:5e::2']);
    await backend.unblock('198.18.5.2');
    await backend.unblock('198.18.5.2');
    await backend.unblock('198.18.5.99');
    assert.deepEqual(await backend.list(), ['fd00:5e::2']);
    // Prefixes: IPv6 at BLOCK_PREFIX6 in blocked6 (one element), any other length in the _nets sets.
    await backend.block('fd00:77:1:2::/64');
    await backend.block('198.18.64.0/24');
    await backend.block('fd00:88::/48');
    assert.match(await nft('list', 'set', 'inet', 'ps_b', 'blocked6'), /elements = \{ fd00:77:1:2:: \}/);
    assert.match(await nft('list', 'set', 'inet', 'ps_b', 'blocked4_nets'), /198\.18\.64\.0\/24/);
    assert.deepEqual((await backend.list()).sort(), ['198.18.64.0/24', 'fd00:5e::2', 'fd00:77:1:2::/64', 'fd00:88::/48']);
    // Already covered by a wider block: success, not an error.
    await backend.block('fd00:88:0:5::/64');
    await backend.unblock('fd00:88::/48');
    await backend.unblock('fd00:88::/48');
    await backend.remove();
  });

  it('puts a timeout on the element when asked', async () => {
    const backend = new NftablesBackend({ table: 'ps_c', nftCommand: nftInNs });
    await backend.start();
    await backend.block('198.18.5.3', { timeoutSeconds: 3600 });
    assert.match(await nft('list', 'set', 'inet', 'ps_c', 'blocked4'), /198\.18\.5\.3 timeout 1h expires/);
    await backend.remove();
  });

  it('takes a block lasting years (nft refuses 100,000,000 s as a figure), and the blocks batched with it still go in', async () => {
    const backend = new NftablesBackend({ table: 'ps_long', nftCommand: nftInNs });
    await backend.start();
    try {
      // 3650 days: the longest BLOCK_TIMEOUT; in the same command as two short blocks.
      await Promise.all([backend.block('198.18.7.1', { timeoutSeconds: 60 }), backend.block('198.18.7.2', { timeoutSeconds: 3650 * 86400 }), backend.block('198.18.7.3', { timeoutSeconds: 60 })]);
      const set = await nft('list', 'set', 'inet', 'ps_long', 'blocked4');
      assert.match(set, /198\.18\.7\.2 timeout 3650d expires/);
      assert.match(set, /198\.18\.7\.1 timeout 1m expires/);
      assert.match(set, /198\.18\.7\.3 timeout 1m expires/);
      assert.equal(backend.describeBlock('198.18.7.2', { timeoutSeconds: 3650 * 86400 + 1 }), 'nft add element inet ps_long blocked4 { 198.18.7.2 timeout 3650d1s }');
    } finally {
      await backend.remove();
    }
  });

  it('batches a burst into few commands and loses none, duplicates included', async () => {
    const backend = new NftablesBackend({ table: 'ps_d', nftCommand: nftInNs });
    await backend.start();
    await backend.block('198.19.0.7');
    const addresses = Array.from({ length: 3000 }, (_, i) => `198.19.${i >> 8}.${i & 255}`);
    // 198.19.0.7 is already in the set (the kernel trap got there first): that is success for
    // it, inside the batch, with no retry one element at a time.
    await nft('add', 'element', 'inet', 'ps_d', 'blocked4', '{ 198.19.3.1, 198.19.5.5 }');
    const commands = countCommands(backend);
    await Promise.all(addresses.map((a) => backend.block(a)));
    assert.ok(commands() <= 4, `${commands()} nft commands for 3,000 blocks`);
    const listed = new Set(await backend.list());
    assert.equal(listed.size, 3000);
    for (const a of addresses) assert.ok(listed.has(a), a);
    await backend.remove();
  });

  it('refuses anything that is not an IP address before nft sees it', async () => {
    const backend = new NftablesBackend({ table: 'ps_e', nftCommand: nftInNs });
    await backend.start();
    for (const bad of ['example.com', '198.18.0.1; flush ruleset', '198.18.0.5/24', '198.18.0.0/33', '::ffff:198.18.0.0/120', '::1%lo', '', '1.2.3.4 }', '198.18.0.0/24 }']) {
      await assert.rejects(backend.block(bad), (e: unknown) => e instanceof BlockError && e.code === 'invalid-address', bad);
    }
    assert.deepEqual(await backend.list(), []);
    await backend.remove();
  });

  it('rejects bad table names and bad timeouts', async () => {
    assert.throws(() => new NftablesBackend({ table: 'x y' }), BlockError);
    assert.throws(() => new NftablesBackend({ table: '1abc' }), BlockError);
    const backend = new NftablesBackend({ table: 'ps_f', nftCommand: nftInNs });
    await assert.rejects(backend.block('198.18.5.4', { timeoutSeconds: -1 }), BlockError);
    await assert.rejects(backend.block('198.18.5.4', { timeoutSeconds: 1.5 }), BlockError);
  });

  it('remove() deletes only its own table and tolerates it being gone', async () => {
    await nft('add', 'table', 'inet', 'not_ours');
    const backend = new NftablesBackend({ table: 'ps_g', nftCommand: nftInNs });
    await backend.start();
    await backend.remove();
    await backend.remove();
    const tables = await nft('list', 'tables');
    assert.match(tables, /not_ours/);
    assert.doesNotMatch(tables, /ps_g/);
  });

  it('reports a clear error when nft cannot run, and recovers when it can again', async () => {
    const broken = new NftablesBackend({ table: 'ps_h', nftCommand: ['/nonexistent/nft'] });
    await assert.rejects(broken.start(), /nft/);
    await assert.rejects(broken.block('198.18.5.5'), BlockError);
  });

  it('when a set is full, evicts the soonest to expire, then the oldest, says so once, and blocks the newcomer', async () => {
    const lines: string[] = [];
    const evicted: string[] = [];
    const backend = new NftablesBackend({ table: 'ps_i', nftCommand: nftInNs, setSize: 1024, log: (m) => lines.push(m) });
    backend.setEvictionListener((targets) => evicted.push(...targets));
    await backend.start();
    await backend.block('198.18.9.1'); // permanent, oldest
    await backend.block('198.18.9.2', { timeoutSeconds: 600 }); // lapses soonest
    // The rest arrive behind the daemon's back (the kernel trap under a flood).
    const rest = Array.from({ length: 1022 }, (_, i) => `198.19.${i >> 8}.${i & 255} timeout 3600s`);
    await nft('add', 'element', 'inet', 'ps_i', 'blocked4', `{ ${rest.join(', ')} }`);
    await backend.block('198.18.9.3');
    const set = await nft('list', 'set', 'inet', 'ps_i', 'blocked4');
    assert.match(set, /198\.18\.9\.3/, 'the newest scanner is blocked');
    assert.doesNotMatch(set, /198\.18\.9\.2 /, 'the block that lapses soonest went first');
    assert.ok(evicted.includes('198.18.9.2'));
    assert.equal(lines.filter((l) => /is full/.test(l)).length, 1);
    await backend.block('198.18.9.4');
    assert.equal(lines.filter((l) => /is full/.test(l)).length, 1, 'said once');
    await backend.remove();
  });

  it('makes room in a full set from what it knows; the set is read in the background, never while a block waits', async () => {
    // Every nft the backend runs goes through this wrapper, which notes its arguments; a read of
    // a set ("list set") is held until the test lets it go, as a million elements would hold it.
    const dir = await mkdtemp(join(tmpdir(), 'psnft-calls-'));
    const calls = join(dir, 'calls');
    const release = join(dir, 'release');
    const script = `echo "$*" >> ${calls}; case "$*" in "list set inet ps_l blocked4") while [ ! -e ${release} ]; do sleep 0.05; done;; esac; exec ip netns exec ${NS} nft "$@"`;
    const lines: string[] = [];
    const backend = new NftablesBackend({ table: 'ps_l', nftCommand: ['sh', '-c', script, 'nft'], setSize: 1024, log: (m) => lines.push(m) });
    const evicted: string[] = [];
    backend.setEvictionListener((targets) => evicted.push(...targets));
    await backend.start();
    try {
      // Half the set is blocks the helper made or learned (the trap's, re-blocked after capture
      // reported their probes), half arrived behind its back.
      await Promise.all(Array.from({ length: 512 }, (_, i) => backend.block(`198.18.${20 + (i >> 8)}.${i & 255}`, { timeoutSeconds: 3600 + i })));
      const behind = Array.from({ length: 512 }, (_, i) => `198.19.${i >> 8}.${i & 255} timeout 60s`);
      await nft('add', 'element', 'inet', 'ps_l', 'blocked4', `{ ${behind.join(', ')} }`);
      const blocked = backend.block('198.18.30.1').then(() => 'blocked' as const);
      const held = new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), 30_000).unref());
      const first = await Promise.race([blocked, held]);
      await writeFile(release, '');
      assert.equal(first, 'blocked', 'the block waited for the full set to be read');
      assert.ok((await nft('get', 'element', 'inet', 'ps_l', 'blocked4', '{ 198.18.30.1 }')).includes('198.18.30.1'), 'the newest scanner is blocked');
      // Soonest to expire among the known blocks went first.
      assert.deepEqual(evicted.slice(0, 3), ['198.18.20.0', '198.18.20.1', '198.18.20.2']);
      // The background read teaches it the elements it had not seen.
      const deadline = Date.now() + 60_000;
      while (!lines.some((l) => /read \d+ from the kernel in the background/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(
        lines.some((l) => /read \d+ from the kernel in the background/.test(l)),
        lines.join('\n'),
      );
    } finally {
      await writeFile(release, '');
      await backend.remove();
    }
  });

  it('replaces the timeout of a block in place (Extend), also when the element lapsed meanwhile', async () => {
    const backend = new NftablesBackend({ table: 'ps_r', nftCommand: nftInNs });
    await backend.start();
    try {
      await backend.block('198.18.40.1', { timeoutSeconds: 60 });
      await Promise.all([backend.block('198.18.40.1', { timeoutSeconds: 600, replace: true }), backend.block('198.18.40.2', { timeoutSeconds: 900, replace: true })]);
      const set = await nft('list', 'set', 'inet', 'ps_r', 'blocked4');
      assert.match(set, /198\.18\.40\.1 timeout 10m /);
      assert.match(set, /198\.18\.40\.2 timeout 15m /, 'an element not there (lapsed) is simply added');
      await backend.block('fd00:88::/48', { timeoutSeconds: 60 });
      await backend.block('fd00:88::/48', { replace: true });
      assert.match(await nft('list', 'set', 'inet', 'ps_r', 'blocked6_nets'), /elements = \{ fd00:88::\/48 \}/, 'no timeout: permanent');
    } finally {
      await backend.remove();
    }
  });

  it('warns before a set is full', async () => {
    const lines: string[] = [];
    const backend = new NftablesBackend({ table: 'ps_j', nftCommand: nftInNs, setSize: 1024, log: (m) => lines.push(m) });
    await backend.start();
    await Promise.all(Array.from({ length: 930 }, (_, i) => backend.block(`198.19.${i >> 8}.${i & 255}`)));
    assert.equal(lines.filter((l) => /holds \d+ of 1024/.test(l)).length, 1);
    await backend.remove();
  });

  it('moves blocked6 elements to where they keep their meaning when the prefix changes', async () => {
    const old = new NftablesBackend({ table: 'ps_k', nftCommand: nftInNs, prefix6: 64 });
    await old.start();
    await old.block('fd00:99:0:1::/64');
    await old.stop();
    const lines: string[] = [];
    const next = new NftablesBackend({ table: 'ps_k', nftCommand: nftInNs, prefix6: 56, log: (m) => lines.push(m) });
    await next.start();
    assert.deepEqual(await next.list(), ['fd00:99:0:1::/64']);
    assert.match(await nft('list', 'set', 'inet', 'ps_k', 'blocked6_nets'), /fd00:99:0:1::\/64/);
    assert.match(await nft('list', 'chain', 'inet', 'ps_k', 'prerouting'), /ip6 saddr & ffff:ffff:ffff:ff00:: == @blocked6/);
    assert.ok(lines.some((l) => /BLOCK_PREFIX6 is now 56/.test(l)));
    await next.remove();
  });

  it('parses nft set listings and skips what is not an address', () => {
    const now = 1_000_000;
    assert.deepEqual(parseElementLine('198.18.0.1 timeout 1h expires 59m58s120ms, 198.18.0.2,', 'blocked4', 64, now), [
      { key: '198.18.0.1', expiresAt: now + 3_598_120 },
      { key: '198.18.0.2', expiresAt: null },
    ]);
    assert.deepEqual(parseElementLine('fd00:1:2:3:: }', 'blocked6', 64, now), [{ key: 'fd00:1:2:3::/64', expiresAt: null }]);
    assert.deepEqual(parseElementLine('bogus, 7, fd00::/32', 'blocked6_nets', 64, now), [{ key: 'fd00::/32', expiresAt: null }]);
    assert.equal(parseNftDuration('1d2h3m4s5ms'), 93_784_005);
  });
});

/** Counts the element commands the backend's persistent nft is sent from now on. */
function countCommands(backend: NftablesBackend): () => number {
  let count = 0;
  const child = (backend as unknown as { child: { stdin: { write: (text: string) => boolean } } }).child;
  const write = child.stdin.write.bind(child.stdin);
  child.stdin.write = (text: string) => {
    if (/element/.test(text)) count += 1;
    return write(text);
  };
  return () => count;
}
