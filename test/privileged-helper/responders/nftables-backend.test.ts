// The nftables backend against the real nft, inside a namespace of its own.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { NftablesBackend, parseSetElements } from '../../../privileged-helper/responders/nftables-backend.js';
import { BlockError } from '../../../privileged-helper/responders/block-backend.js';

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
    assert.equal(table.match(/ip6 saddr @blocked6 counter .* drop/g)?.length, 1);
    assert.match(table, /hook prerouting priority raw/);
    assert.match(table, /198\.18\.5\.1/);
    await backend.remove();
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
    await backend.remove();
  });

  it('puts a timeout on the element when asked', async () => {
    const backend = new NftablesBackend({ table: 'ps_c', nftCommand: nftInNs });
    await backend.start();
    await backend.block('198.18.5.3', { timeoutSeconds: 3600 });
    assert.match(await nft('list', 'set', 'inet', 'ps_c', 'blocked4'), /198\.18\.5\.3 timeout 1h expires/);
    await backend.remove();
  });

  it('batches a burst into few commands and loses none, duplicates included', async () => {
    const backend = new NftablesBackend({ table: 'ps_d', nftCommand: nftInNs });
    await backend.start();
    await backend.block('198.19.0.7');
    const addresses = Array.from({ length: 3000 }, (_, i) => `198.19.${i >> 8}.${i & 255}`);
    // 198.19.0.7 is already in the set: its batch fails with "File exists" and is retried singly.
    await Promise.all(addresses.map((a) => backend.block(a)));
    const listed = new Set(await backend.list());
    assert.equal(listed.size, 3000);
    for (const a of addresses) assert.ok(listed.has(a), a);
    await backend.remove();
  });

  it('refuses anything that is not an IP address before nft sees it', async () => {
    const backend = new NftablesBackend({ table: 'ps_e', nftCommand: nftInNs });
    await backend.start();
    for (const bad of ['example.com', '198.18.0.1; flush ruleset', '198.18.0.0/24', '::1%lo', '', '1.2.3.4 }']) {
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

  it('parses nft -j set listings and skips what is not an address', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { set: { family: 'inet', name: 'blocked4', elem: ['198.18.0.1', { elem: { val: '198.18.0.2', timeout: 10 } }, 'bogus', 7] } },
      ],
    });
    assert.deepEqual(parseSetElements(json), ['198.18.0.1', '198.18.0.2']);
    assert.deepEqual(parseSetElements('not json'), []);
    assert.deepEqual(parseSetElements('{"nftables": 3}'), []);
  });
});
