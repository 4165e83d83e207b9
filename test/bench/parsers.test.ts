// The benchmark's pure readers of tool output: nft JSON sets, iptables rules, nmap XML, and
// the address generators the figures rely on being distinct and in range.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ignoreText, ourConfigText, peerConfigText } from '../../bench/configs.js';
import { nthSource } from '../../bench/engine-memory.js';
import { blockedAddress } from '../../bench/fig-block-cost.js';
import { learnedPortsFromXml } from '../../bench/fig-leak.js';
import { parseNftSetJson } from '../../bench/ours.js';
import { parsePeerRules } from '../../bench/peer.js';

describe('bench parsers', () => {
  it('reads addresses from nft -j list set, plain and with timeouts', () => {
    const text = JSON.stringify({ nftables: [{ metainfo: {} }, { set: { name: 'blocked4', elem: ['198.18.8.1', { elem: { val: '198.18.8.2', timeout: 60 } }] } }] });
    assert.deepEqual(parseNftSetJson(text), ['198.18.8.1', '198.18.8.2']);
    assert.deepEqual(parseNftSetJson('not json'), []);
  });

  it("reads the peer's DROP rules from iptables -S", () => {
    const text = '-P INPUT ACCEPT\n-A INPUT -s 198.18.8.2/32 -j DROP\n-A INPUT -s 198.18.8.1/32 -j DROP\n-A INPUT -p tcp -j ACCEPT\n';
    assert.deepEqual(parsePeerRules(text), ['198.18.8.2', '198.18.8.1']);
  });

  it('counts SCTP ports and IP protocols (-sO) as nmap lists them, unfiltered (-sA) included', () => {
    const xml = [
      '<port protocol="sctp" portid="79"><state state="closed" reason="abort"/></port>',
      '<port protocol="ip" portid="99"><state state="closed" reason="proto-unreach"/></port>',
      '<port protocol="ip" portid="100"><state state="open|filtered" reason="no-response"/></port>',
      '<port protocol="tcp" portid="111"><state state="unfiltered" reason="reset"/></port>',
    ].join('');
    assert.equal(learnedPortsFromXml(xml), 3);
  });

  it('counts the ports nmap learned (open or closed), listed or collapsed, but not filtered ones', () => {
    const xml = [
      '<ports><extraports state="filtered" count="65000">',
      '<extraports state="closed" count="530">',
      '<port protocol="tcp" portid="8080"><state state="open" reason="syn-ack"/></port>',
      '<port protocol="tcp" portid="1"><state state="filtered" reason="no-response"/></port>',
      '</ports>',
    ].join('');
    assert.equal(learnedPortsFromXml(xml), 531);
  });

  it('generates distinct addresses inside the benchmark ranges', () => {
    const block = new Set(Array.from({ length: 100_000 }, (_, i) => blockedAddress(i)));
    assert.equal(block.size, 100_000);
    assert.equal(blockedAddress(0), '198.18.1.0');
    assert.ok([...block].every((a) => /^198\.1[89]\./.test(a) && !a.startsWith('198.18.0.')));
    assert.throws(() => blockedAddress(200_000), RangeError);
    const engine = new Set(Array.from({ length: 300_000 }, (_, i) => nthSource(i)));
    assert.equal(engine.size, 300_000);
    assert.ok([...engine].every((a) => /^198\.1[89]\./.test(a) || a.startsWith('fd00::')));
  });

  it('gives both detectors the same ports, ignore file and trigger, and each its own block', () => {
    const ours = ourConfigText('/tmp/b');
    const peer = peerConfigText('/tmp/b');
    const shared = (text: string) => text.split('\n').filter((l) => /^(TCP_PORTS|UDP_PORTS|ADVANCED_|IGNORE_FILE|SCAN_TRIGGER|BLOCK_TCP|BLOCK_UDP)/.test(l));
    assert.deepEqual(shared(ours), shared(peer));
    assert.match(ours, /BLOCK_BACKEND="nftables"/);
    assert.match(peer, /KILL_ROUTE="\/usr\/sbin\/iptables -I INPUT -s \$TARGET\$ -j DROP"/);
    assert.doesNotMatch(peer, /BLOCK_BACKEND|NFT_TABLE|STORE_FILE/, 'the peer must get only keys portsentry 1.2 knows');
    assert.equal(ignoreText(['198.18.0.10']), '127.0.0.1/32\n0.0.0.0\n198.18.0.10\n');
  });
});
