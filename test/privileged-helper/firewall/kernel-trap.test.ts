import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { planCapture } from '../../../privileged-helper/capture/capture-plan.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import type { Mode } from '../../../shared/domain/types.js';
import { planTrap, portRanges, trapScript } from '../../../privileged-helper/firewall/kernel-trap.js';

const run = promisify(execFile);

function plan(text: string, modes: Mode[], paused = false, bound?: { tcp: number[]; udp: number[] }) {
  const defaults = ['TCP_PORTS="1,11,15,16,17,31337"', 'UDP_PORTS="7,9"', 'BLOCK_TCP="1"', 'BLOCK_UDP="1"'];
  const keys = new Set(text.split('\n').map((line) => line.split('=')[0]));
  const config = parseConfig([...defaults.filter((line) => !keys.has(line.split('=')[0])), text].join('\n'), 't.conf');
  const rules = planCapture(config, modes)?.rules ?? [];
  return planTrap(config, modes, rules, { ignore: [{ address: '198.18.7.0', family: 4, prefix: 24 }], host: ['198.18.0.10', 'fd00:5e::a'] }, paused, bound);
}

describe('kernel trap plan', () => {
  it('covers the stealth and advanced ports as merged ranges, with every never-block address', () => {
    const p = plan('', ['stcp', 'sudp']);
    assert.deepEqual(p?.tcpPorts, [
      [1, 1],
      [11, 11],
      [15, 17],
      [31337, 31337],
    ]);
    assert.deepEqual(p?.udpPorts, [
      [7, 7],
      [9, 9],
    ]);
    assert.deepEqual(p?.ignore4, ['127.0.0.0/8', '198.18.7.0/24', '198.18.0.10']);
    assert.deepEqual(p?.ignore6, ['::1', 'fd00:5e::a']);
    // The host's own /64 is shared with it: there a scanner is blocked alone, not its /64.
    assert.deepEqual(p?.shared6, ['::/64', 'fd00:5e::/64']);
    assert.equal(p?.prefix6, 64);
    const advanced = plan('ADVANCED_PORTS_TCP="1024"\nADVANCED_EXCLUDE_TCP="113,139"', ['atcp']);
    assert.deepEqual(advanced?.tcpPorts, [
      [1, 112],
      [114, 138],
      [140, 1024],
    ]);
    assert.deepEqual(advanced?.udpPorts, []);
    // SCTP and IP protocol probes go with the TCP stealth and advanced modes, under BLOCK_TCP.
    assert.equal(advanced?.otherProtocols, true);
    assert.equal(plan('', ['sudp'])?.otherProtocols, undefined);
    assert.equal(plan('BLOCK_TCP="0"', ['stcp', 'sudp'])?.otherProtocols, undefined);
    assert.deepEqual(plan('IP_PROTOCOLS_IN_USE="99"', ['stcp'])?.ipProtocolsInUse, [99]);
    assert.match(trapScript('t', plan('IP_PROTOCOLS_IN_USE="99,253"', ['stcp'])), /meta l4proto != \{ [^}]*\b97, 99, 103\b[^}]*\b140, 253 \}/);
  });

  it('is off whenever the kernel would decide differently from the daemon', () => {
    const classic = plan('', ['tcp', 'udp']);
    assert.deepEqual(
      [classic?.tcpPorts, classic?.udpPorts, classic?.udpTripwires],
      [
        [],
        [],
        [
          [7, 7],
          [9, 9],
        ],
      ],
      'TCP tripwires complete the handshake; UDP tripwires block in the kernel',
    );
    assert.equal(plan('', ['tcp']), null);
    assert.equal(plan('BLOCK_UDP="0"', ['udp']), null);
    assert.equal(plan('', ['stcp'], true), null, 'paused');
    assert.equal(plan('SCAN_TRIGGER="2"', ['stcp']), null, 'the Nth touch blocks, not the first');
    assert.equal(plan('KERNEL_TRAP="0"', ['stcp']), null);
    assert.equal(plan('BLOCK_BACKEND="none"', ['stcp']), null);
    assert.deepEqual(plan('BLOCK_UDP="0"', ['stcp', 'sudp'])?.udpPorts, [], 'UDP only reported');
    assert.equal(plan('BLOCK_TCP="2"\nKILL_RUN_CMD="/bin/true"', ['stcp']), null, 'BLOCK_TCP=2 only runs the command');
  });

  it('traps the classic -tcp tripwires our sockets hold, after the handshake, and only those', () => {
    assert.deepEqual(plan('', ['tcp'], false, { tcp: [1, 31337], udp: [] })?.tcpTripwires, [
      [1, 1],
      [31337, 31337],
    ]);
    assert.equal(plan('BLOCK_TCP="0"', ['tcp'], false, { tcp: [1, 31337], udp: [] }), null);
    assert.deepEqual(plan('', ['udp'], false, { tcp: [], udp: [9] })?.udpTripwires, [[9, 9]], 'a UDP port a service holds is not trapped');
  });

  it('leaves on-link LAN service touches to the score, and is off when a first touch may not act (scan-score.ts)', () => {
    const links = {
      ignore: [],
      host: ['198.18.0.10'],
      onLink: [
        { address: '198.18.0.0', family: 4 as const, prefix: 24 },
        { address: 'fd00:5e::', family: 6 as const, prefix: 64 },
      ],
    };
    const config = (text: string) => parseConfig(['TCP_PORTS="1,31337"', 'UDP_PORTS="161,54321"', 'BLOCK_TCP="1"', 'BLOCK_UDP="1"', text].join('\n'), 't.conf');
    const lan = (text: string, modes: Mode[] = ['stcp', 'sudp']) => planTrap(config(text), modes, planCapture(config(text), modes)?.rules ?? [], links, false);
    const p = lan('LAN_SERVICE_PORTS_TCP="445,631"\nLAN_SERVICE_PORTS_UDP="161,162"');
    assert.deepEqual(
      [p?.onLink4, p?.onLink6, p?.lanTcp, p?.lanUdp],
      [
        ['198.18.0.0/24'],
        ['fd00:5e::/64'],
        [
          [445, 445],
          [631, 631],
        ],
        [[161, 162]],
      ],
    );
    // A lone LAN touch blocks anyway: nothing is left to user space.
    assert.equal(lan('SCAN_SCORE_LAN_SERVICE="4"')?.lanTcp, undefined);
    assert.equal(lan('SCAN_SCORING="classic"')?.lanUdp, undefined);
    // Any first touch would only count (scanlogd-like weights): the kernel cannot decide alone.
    assert.equal(lan('SCAN_SCORE_PORT="1"'), null);
    assert.notEqual(lan('SCAN_SCORE_PORT="1"\nSCAN_SCORING="classic"'), null);
  });

  it('merges ports into ranges and drops excluded ones', () => {
    const rule = (ports: number[], exclude: number[] = []) => ({
      mode: 'stcp' as const,
      protocol: 'tcp' as const,
      ports: { kind: 'list' as const, ports },
      exclude: new Set(exclude),
      skipListening: true,
    });
    assert.deepEqual(portRanges([rule([5, 3, 4, 9, 10, 1])]), [
      [1, 1],
      [3, 5],
      [9, 10],
    ]);
    assert.deepEqual(portRanges([rule([1, 2, 3], [2])]), [
      [1, 1],
      [3, 3],
    ]);
    assert.deepEqual(portRanges([]), []);
  });

  it('is a script nft accepts, armed and disarmed (checked by nft itself, in a namespace)', async () => {
    const ns = `pstrap${process.pid}`;
    await run('ip', ['netns', 'add', ns]);
    try {
      const nft = (script: string) =>
        new Promise<void>((resolve, reject) => {
          const child = execFile('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], (error, _o, stderr) => (error ? reject(new Error(String(stderr))) : resolve()));
          child.stdin?.end(script);
        });
      await nft('table inet t {\n set blocked4 { type ipv4_addr; flags timeout; }\n set blocked6 { type ipv6_addr; flags timeout; }\n set blocked6_hosts { type ipv6_addr; flags timeout; }\n}\n');
      const armed = plan('BLOCK_TIMEOUT="600"', ['stcp', 'sudp']);
      assert.ok(armed !== null);
      await nft(trapScript('t', armed));
      const listing = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout);
      // The add and the drop are separate rules: a failed add (full set) cannot skip the drop.
      // BLOCK_RATE_PER_PREFIX (64 by default) in the kernel: the add takes a token from its /24 or /64 first.
      assert.match(listing, /tcp dport @trap_tcp update @trap_rate4 \{ ip saddr & 255\.255\.255\.0 limit rate 64\/minute burst 64 packets \} add @blocked4 \{ ip saddr timeout 10m \}\n/);
      assert.match(
        listing,
        /ip6 saddr != @trap_shared6 update @trap_rate6 \{ ip6 saddr & ffff:ffff:ffff:ffff:: limit rate 64\/minute burst 64 packets \} add @blocked6 \{ ip6 saddr & ffff:ffff:ffff:ffff:: timeout 10m \}\n/,
      );
      // No limit (0): the add stands alone, as before.
      await nft(trapScript('t', { ...armed, ratePerPrefix: 0 }));
      const unlimited = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout);
      assert.match(unlimited, /tcp dport @trap_tcp add @blocked4 \{ ip saddr timeout 10m \}\n/);
      assert.doesNotMatch(unlimited, /trap_rate/);
      await nft(trapScript('t', armed));
      assert.match(listing, /tcp dport @trap_tcp counter packets 0 bytes 0 drop comment/);
      assert.match(listing, /socket transparent 0 return/);
      assert.match(listing, /ct state established,related return/);
      await nft(trapScript('t', armed)); // re-applying replaces, never duplicates
      const again = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout);
      assert.equal(again.match(/drop comment "portsentry trap"/g)?.length, 3);
      // TCP with no conversation: a lone ACK conntrack picked up as new is trapped; a peer of the
      // last five minutes is left alone first (its late segments are no probe).
      assert.match(again, /ct state new tcp flags ack \/ syn,rst,ack tcp dport @trap_tcp counter packets 0 bytes 0 drop comment "portsentry trap"/);
      assert.ok(again.indexOf('tcp flags ack / syn,rst,ack tcp dport @trap_tcp ip saddr @trap_peers4 return') < again.indexOf('ct state new tcp flags ack / syn,rst,ack'), again);
      // What conntrack calls invalid (a bad checksum among others) is dropped but never added by the kernel.
      assert.equal(again.match(/ct state invalid [^\n]*counter packets 0 bytes 0 drop comment/g)?.length, 4);
      // SCTP INIT / COOKIE ECHO to the trapped TCP ports and IP protocols nothing here uses,
      // last, after every return (protocol-trap.ts); a bad CRC32c (invalid) is only dropped.
      for (const chunk of ['init', 'cookie-echo']) {
        assert.match(again, new RegExp(`sctp dport @trap_tcp sctp chunk ${chunk} exists update @trap_rate4 [^\\n]* add @blocked4`));
        assert.match(again, new RegExp(`ct state invalid sctp dport @trap_tcp sctp chunk ${chunk} exists counter packets 0 bytes 0 drop`));
      }
      assert.match(again, /meta l4proto != \{[^}]*\} counter packets 0 bytes 0 drop comment "portsentry trap: IP protocol"/);
      assert.ok(again.indexOf('socket transparent 1 return') < again.indexOf('sctp dport'), again);
      assert.ok(again.indexOf('ct state invalid tcp') < again.indexOf('add @blocked4'), 'the invalid drop comes before any add');
      // The reply trap: invalid TCP (FIN, NULL, XMAS, FIN/ACK, or a bad checksum) is remembered
      // and let through to the stack before that drop, which only a full set reaches...
      const remember = again.indexOf('ct state invalid tcp flags ! rst tcp dport @trap_tcp update @trap_reply4 { ip saddr . tcp dport }');
      const through = again.indexOf('ct state invalid tcp flags ! rst tcp dport @trap_tcp ip saddr . tcp dport @trap_reply4 counter packets 0 bytes 0 accept');
      assert.ok(remember > 0 && remember < through && through < again.indexOf('ct state invalid tcp flags ! rst tcp dport @trap_tcp counter packets 0 bytes 0 drop'), again);
      assert.match(again, /ct state invalid tcp flags ! rst tcp dport @trap_tcp update @trap_reply6 \{ ip6 saddr \. tcp dport \}/);
      // ...and the RST the stack answers a good one with blocks its destination, under the same
      // per-prefix limit, timeout and IPv6 prefix, and is dropped, before anything else on the way out.
      const replyOut = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap_out'])).stdout);
      assert.match(
        replyOut,
        /tcp flags & rst == rst ip daddr \. tcp sport @trap_reply4 update @trap_rate4 \{ ip daddr & 255\.255\.255\.0 limit rate 64\/minute burst 64 packets \} add @blocked4 \{ ip daddr timeout 10m \}\n/,
      );
      assert.match(replyOut, /ip6 daddr != @trap_shared6 update @trap_rate6 \{ ip6 daddr & ffff:ffff:ffff:ffff:: [^}]*\} add @blocked6 \{ ip6 daddr & ffff:ffff:ffff:ffff:: timeout 10m \}\n/);
      assert.match(replyOut, /ip6 daddr @trap_shared6 [^\n]*add @blocked6_hosts \{ ip6 daddr timeout 10m \}\n/);
      assert.equal(replyOut.match(/tcp sport @trap_reply[46] counter packets 0 bytes 0 drop comment "portsentry reply trap"/g)?.length, 2, replyOut);
      assert.ok(replyOut.indexOf('@trap_reply') < replyOut.indexOf('@trap_peers4'), 'the RST is dropped before anything else reads it');
      // On-link LAN touches return before any block rule (the -udp tripwire one too); replies to our multicast queries before the tripwires.
      const lanPlan = { ...plan('', ['stcp', 'udp'])!, onLink4: ['198.18.0.0/24'], onLink6: ['fd00:5e::/64'], lanTcp: [[445, 445] as const], lanUdp: [[161, 162] as const] };
      await nft(trapScript('t', lanPlan));
      const lanRules = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout);
      assert.match(lanRules, /ip saddr @trap_onlink4 udp dport @trap_lan_udp return/);
      assert.ok(lanRules.indexOf('@trap_lan_udp return') < lanRules.indexOf('dport @trap_udp_tripwires'));
      assert.ok(lanRules.indexOf('@trap_lan_tcp return') < lanRules.indexOf('dport @trap_tcp '));
      assert.ok(lanRules.indexOf('udp dport @trap_query_ports return') < lanRules.indexOf('dport @trap_udp_tripwires'));
      const out = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap_out'])).stdout);
      assert.match(out, /ip daddr \{ 224\.0\.0\.0\/4, 255\.255\.255\.255 \} update @trap_query_ports \{ udp sport \}/);
      const withTripwires = plan('', ['stcp', 'udp']);
      await nft(trapScript('t', withTripwires));
      const tripwires = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout);
      // The tripwire rule comes before the socket lookup (our own socket owns the port) and lets the datagram through.
      assert.ok(tripwires.indexOf('@trap_udp_tripwires add @blocked4') < tripwires.indexOf('socket transparent 0'));
      assert.match(tripwires, /udp dport @trap_udp_tripwires counter packets 0 bytes 0 accept/);
      await nft(trapScript('t', plan('', ['tcp'], false, { tcp: [31337], udp: [] })));
      const classic = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout);
      // Before "established: not a probe", and it lets the handshake's ACK through.
      // Only a bare ACK: a FIN or data retransmitted into the block long after the probe is no new touch.
      assert.ok(
        classic.indexOf('@trap_tcp_tripwires ct direction original ct state established tcp flags ack / fin,syn,rst,psh,ack add @blocked4') < classic.indexOf('ct state established,related return'),
      );
      assert.match(classic, /tcp dport @trap_tcp_tripwires ct direction original ct state established tcp flags ack \/ fin,syn,rst,psh,ack counter packets 0 bytes 0 accept/);
      // An unblocked host is pardoned by that rule (its connection open at the unblock).
      assert.ok(classic.indexOf('ip saddr @trap_pardon4 return') < classic.indexOf('@trap_tcp_tripwires ct direction original'));
      // The longest BLOCK_TIMEOUT (3650 days) is more seconds than nft takes as a plain figure.
      await nft(trapScript('t', plan(`BLOCK_TIMEOUT="${3650 * 86400}"`, ['stcp'])!));
      assert.match(String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout), /add @blocked4 \{ ip saddr timeout 3650d \}/);
      await nft(trapScript('t', null));
      const disarmed = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', 'trap'])).stdout);
      assert.doesNotMatch(disarmed, /drop/);
    } finally {
      await run('ip', ['netns', 'delete', ns]);
    }
  });
});
