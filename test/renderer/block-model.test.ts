// The dashboard's pure rules for blocking and the header: what the block form sends for an
// address or a range (the network address computed in the page must equal the helper's own
// canonical form), search, extend, ports as ranges, and the status words. Loads the BUILT
// renderer modules, as the windows run them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress as helperParseAddress } from '../../shared/domain/address.js';
import type { BlockEntry, StatusResult } from '../../shared/protocol/schemas.js';

interface BlockModel {
  parseBlockTarget(text: string): { target: string; range: boolean } | { error: string };
  networkAddress(address: string, family: 4 | 6, prefix: number): string;
  filterBlocks(blocks: readonly BlockEntry[], search: string): BlockEntry[];
  extendedTimeout(block: BlockEntry, bySeconds: number, now: number): number | null;
  portRanges(ports: readonly number[]): string;
}
interface StatusText {
  formatDuration(seconds: number): string;
  statusDetails(status: StatusResult, now: number): string;
  protectionBanner(status: Partial<StatusResult> | null, pausedUntilText: string | null): { text: string; warn: boolean };
}
const built = (path: string) => new URL(`../../renderer/renderer/${path}`, import.meta.url).href;
const model = (await import(built('dashboard/block-model.js'))) as BlockModel;
const words = (await import(built('dashboard/status-text.js'))) as StatusText;

/** The network address by BigInt arithmetic on the helper's own parse: the reference. */
function referenceNetwork(address: string, prefix: number): string {
  const parsed = helperParseAddress(address)!;
  const bits = parsed.family === 4 ? 32 : 128;
  let value = 0n;
  if (parsed.family === 4) for (const octet of parsed.address.split('.')) value = value * 256n + BigInt(octet);
  else {
    const [head = '', tail] = parsed.address.split('::');
    const part = (t: string) => (t === '' ? [] : t.split(':'));
    const left = part(head);
    const right = tail === undefined ? [] : part(tail);
    for (const word of [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]) value = value * 65536n + BigInt(`0x${word}`);
  }
  const network = (value >> BigInt(bits - prefix)) << BigInt(bits - prefix);
  if (parsed.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((network >> s) & 255n)).join('.');
  const hex = Array.from({ length: 8 }, (_, i) => ((network >> BigInt(112 - i * 16)) & 0xffffn).toString(16)).join(':');
  return helperParseAddress(hex)!.address;
}

describe('blocking from the dashboard: the rules in the page', () => {
  it('computes the same network address as the helper would, for random addresses and prefixes', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) {
      const v6 = next() < 0.5;
      const address = v6
        ? Array.from({ length: 8 }, () => (next() < 0.4 ? '0' : Math.floor(next() * 65536).toString(16))).join(':')
        : Array.from({ length: 4 }, () => String(Math.floor(next() * 256))).join('.');
      const prefix = Math.floor(next() * (v6 ? 129 : 33));
      const canonical = helperParseAddress(address)!.address;
      assert.equal(model.networkAddress(canonical, v6 ? 6 : 4, prefix), referenceNetwork(address, prefix), `${address}/${prefix}`);
    }
  });

  it('sends one address or a range, and refuses the rest in words', () => {
    assert.deepEqual(model.parseBlockTarget(' 198.51.100.7 '), { target: '198.51.100.7', range: false });
    assert.deepEqual(model.parseBlockTarget('198.51.100.7/32'), { target: '198.51.100.7', range: false });
    assert.deepEqual(model.parseBlockTarget('198.51.100.0/24'), { target: '198.51.100.0/24', range: true });
    assert.deepEqual(model.parseBlockTarget('FD00:5E::/64'), { target: 'fd00:5e::/64', range: true });
    assert.deepEqual(model.parseBlockTarget('::ffff:198.51.100.0/24'), { target: '198.51.100.0/24', range: true });
    const error = (text: string) => ('error' in model.parseBlockTarget(text) ? (model.parseBlockTarget(text) as { error: string }).error : 'accepted');
    assert.match(error('198.51.100.7/24'), /has host bits set; did you mean 198\.51\.100\.0\/24\?/);
    // Width is the helper's operator bound, not the page's: any well-formed range goes to the helper.
    assert.equal(error('10.0.0.0/7'), 'accepted');
    assert.equal(error('fd00::/31'), 'accepted');
    assert.equal(error('10.0.0.0/8'), 'accepted');
    assert.match(error(''), /Enter the address or range/);
    assert.match(error('1.2.3.4; reboot'), /is not an IPv4 or IPv6 address/);
    assert.match(error('198.51.100.0/33'), /not a valid prefix/);
    assert.match(error('198.51.100.0/24/1'), /not an address or address\/prefix/);
    assert.match(error('example.com/24'), /is not an IPv4 or IPv6 address/);
  });

  it('searches, extends from the current end, and writes ports as ranges', () => {
    const blocks: BlockEntry[] = [
      { address: '198.51.100.7', since: 1, until: null, reason: 'SYN scan of TCP port 22' },
      { address: 'fd00::7', since: 2, until: 10_000, reason: 'blocked by hand' },
    ];
    assert.deepEqual(
      model.filterBlocks(blocks, 'HAND fd00').map((b) => b.address),
      ['fd00::7'],
    );
    assert.deepEqual(model.filterBlocks(blocks, '').length, 2);
    assert.deepEqual(
      model.filterBlocks(blocks, 'tcp 198.51').map((b) => b.address),
      ['198.51.100.7'],
    );
    assert.equal(model.extendedTimeout(blocks[1]!, 3600, 4_000), 3606, 'six seconds left plus an hour');
    assert.equal(model.extendedTimeout(blocks[1]!, 3600, 20_000), 3600, 'already lapsed: an hour from now');
    assert.equal(model.extendedTimeout(blocks[0]!, 3600, 0), null, 'until unblocked: nothing to extend');
    assert.equal(model.extendedTimeout({ ...blocks[1]!, until: 10 ** 13 }, 3600, 0), 31_536_000, 'at most the helper limit');
    assert.equal(model.portRanges([79, 1, 2, 3, 111, 2, 5]), '1-3, 5, 79, 111');
    assert.equal(model.portRanges([]), '');
  });

  it('says the helper status in words', () => {
    assert.deepEqual([45, 600, 3 * 3600 + 240, 50 * 3600].map(words.formatDuration), ['45 s', '10 min', '3 h 4 min', '2 days 2 h']);
    const status: StatusResult = {
      version: '0.1.0',
      running: true,
      paused: false,
      modes: ['tcp', 'atcp'],
      uptimeSeconds: 3700,
      blockedCount: 1,
      eventsStored: 9,
      captureActive: true,
      backend: 'nftables',
      role: 'operator',
    };
    assert.equal(words.statusDetails(status, 0), 'Modes: TCP, advanced TCP · capture running · up 1 h 1 min · 1 host blocked · firewall: nftables');
    assert.match(words.statusDetails({ ...status, modes: ['udp'], captureActive: false, blockedCount: 3 }, 0), /^Modes: UDP · no capture needed · .* · 3 hosts blocked/);
    assert.match(words.statusDetails({ ...status, captureActive: false }, 0), /capture not running/);
  });

  it("says, from the helper's own status, when it is paused, not protecting or degraded", () => {
    const fine = { paused: false, protecting: true, notProtectingReason: null, firewall: { inSync: true, problem: null, repairs: 2 } };
    assert.deepEqual(words.protectionBanner(fine, null), { text: 'Protected: the helper is watching.', warn: false });
    assert.deepEqual(words.protectionBanner({ ...fine, paused: true }, '14:05'), { text: 'Detection is paused until 14:05: scans are reported, not blocked.', warn: true });
    assert.deepEqual(words.protectionBanner({ ...fine, protecting: false, notProtectingReason: 'blocking is off (BLOCK_TCP=0, BLOCK_UDP=0): scans are reported only' }, null), {
      text: 'Not protecting: blocking is off (BLOCK_TCP=0, BLOCK_UDP=0): scans are reported only.',
      warn: true,
    });
    const degraded = words.protectionBanner(
      { ...fine, firewall: { inSync: false, problem: 'the firewall lacks the table inet portsentry and could not be restored: nft: permission denied', repairs: 2 } },
      null,
    );
    assert.equal(degraded.warn, true);
    assert.match(degraded.text, /^Degraded: the firewall lacks the table inet portsentry/);
  });
});
