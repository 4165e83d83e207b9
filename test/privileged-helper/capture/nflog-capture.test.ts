import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { nflogCaptureScript, nflogGroupFor, NFLOG_SNAPLEN } from '../../../privileged-helper/capture/nflog-capture.js';
import { trapScript, type TrapPlan } from '../../../privileged-helper/firewall/kernel-trap.js';

const run = promisify(execFile);

const TRAP: TrapPlan = {
  tcpPorts: [[1, 1024]],
  udpPorts: [[7, 7]],
  udpTripwires: [],
  tcpTripwires: [],
  ignore4: ['127.0.0.0/8'],
  ignore6: ['::1'],
  timeoutSeconds: 0,
  prefix6: 64,
  shared6: ['fd00:5e::/64'],
  ratePerPrefix: 64,
};

describe('capture from netfilter: the rules', () => {
  it('two groups per table, alternating, so a new capture binds its own while the old one reads', () => {
    assert.notEqual(nflogGroupFor('portsentry', 1), nflogGroupFor('portsentry', 2));
    assert.equal(nflogGroupFor('portsentry', 1), nflogGroupFor('portsentry', 3));
    assert.notEqual(nflogGroupFor('portsentry', 1), nflogGroupFor('other', 1));
    for (const table of ['a', 'portsentry', 'x'.repeat(64)]) for (const g of [0, 1]) assert.ok(nflogGroupFor(table, g) > 0 && nflogGroupFor(table, g) < 65_536);
  });

  it('are scripts nft accepts, and the trap logs only what it really added (checked by nft itself, in a namespace)', async () => {
    const ns = `psnflog${process.pid}`;
    await run('ip', ['netns', 'add', ns]);
    try {
      const nft = (script: string) =>
        new Promise<void>((resolve, reject) => {
          const child = execFile('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], (error, _o, stderr) => (error ? reject(new Error(String(stderr))) : resolve()));
          child.stdin?.end(script);
        });
      const list = async (chain: string) => String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 't', chain])).stdout);
      await nft('table inet t {\n set blocked4 { type ipv4_addr; flags timeout; }\n set blocked6 { type ipv6_addr; flags timeout; }\n set blocked6_hosts { type ipv6_addr; flags timeout; }\n}\n');
      const watch = { tcp: { kind: 'below', limit: 1024 }, udp: { kind: 'list', ports: [7, 9] }, outbound: true, tcpHandshake: { kind: 'list', ports: [31337] } } as const;
      await nft(nflogCaptureScript('t', { watch, group: 12 }));
      const capture = await list('capture');
      const log = `log prefix "portsentry-probe" group 12 snaplen ${NFLOG_SNAPLEN} queue-threshold 1`;
      assert.match(capture, /priority mangle \+ 10/);
      assert.ok(capture.indexOf('fib daddr type != local return') < capture.indexOf('tcp dport 1-1024'), 'only packets to this host');
      assert.ok(capture.includes(`tcp dport 1-1024 tcp flags ! rst,ack ${log}`), capture);
      assert.ok(capture.includes(`udp dport { 7, 9 } ${log}`), capture);
      // An ACK that belongs to no connection the kernel knows: a probe (nmap -sA, -sW, -sM).
      assert.ok(capture.includes(`ct state invalid,new tcp dport 1-1024 tcp flags ack / syn,rst,ack log prefix "portsentry-stray"`), capture);
      assert.ok(capture.includes(`tcp dport 31337 tcp flags ack / syn,rst,ack ${log}`), capture);
      assert.ok((await list('capture_out')).includes(`tcp flags syn / syn,ack ${log}`));
      await nft(nflogCaptureScript('t', { watch, group: 12 })); // re-applying replaces, never duplicates
      assert.equal((await list('capture')).match(/log prefix/g)?.length, 4);
      // SCTP INIT / COOKIE ECHO and IP protocols nothing here uses, with no conversation (nmap -sY, -sZ, -sO).
      await nft(nflogCaptureScript('t', { watch: { ...watch, otherProtocols: { kind: 'below', limit: 1024 } }, group: 12 }));
      const other = await list('capture');
      for (const chunk of ['init', 'cookie-echo']) assert.ok(other.includes(`ct state invalid,new sctp dport 1-1024 sctp chunk ${chunk} exists ${log}`), other);
      assert.match(other, new RegExp(`ct state new meta l4proto != \\{[^}]*\\} ${log.replace(/[.*+?^$()|[\]\\]/g, '\\$&')}`));
      assert.equal(other.match(/log prefix/g)?.length, 7);
      // Host discovery requests (HOST_DISCOVERY not "off"): new ones only, never replies.
      assert.doesNotMatch(capture, /portsentry-sweep/);
      await nft(nflogCaptureScript('t', { watch, group: 12, discovery: true }));
      const sweeps = await list('capture');
      assert.ok(sweeps.includes('ct state new icmp type { echo-request, timestamp-request, address-mask-request } log prefix "portsentry-sweep"'), sweeps);
      assert.ok(sweeps.includes('ct state new icmpv6 type echo-request log prefix "portsentry-sweep"'), sweeps);
      assert.doesNotMatch(sweeps, /echo-reply/);

      await nft(trapScript('t', { ...TRAP, logGroup: 12 }));
      const trap = await list('trap');
      const trapLog = `log prefix "portsentry-trap" group 12 snaplen ${NFLOG_SNAPLEN} queue-threshold 1`;
      // After the add in the same rule: a rule stops at a failed add (full set, no token), so
      // only a source really put into a blocked set is logged as trapped...
      assert.match(trap, new RegExp(`tcp dport @trap_tcp update @trap_rate4 .* add @blocked4 \\{ ip saddr \\} ${trapLog.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
      // ...and one that was not is logged as an ordinary probe before the drop: user space decides.
      const notAdded = trap.indexOf('tcp dport @trap_tcp ip saddr != @blocked4 log prefix "portsentry-probe"');
      assert.ok(notAdded > 0 && notAdded < trap.indexOf('tcp dport @trap_tcp counter packets 0 bytes 0 drop comment "portsentry trap"'), trap);
      // What conntrack calls invalid (a bad checksum, or a FIN with no connection) is never added
      // by the kernel: logged as one with no conversation and dropped, user space checks the checksum.
      const invalid = trap.indexOf('ct state invalid tcp flags ! rst tcp dport @trap_tcp log prefix "portsentry-stray"');
      assert.ok(invalid > 0 && invalid < trap.indexOf('add @blocked4'), trap);
      assert.ok(trap.includes('ip6 saddr & ffff:ffff:ffff:ffff:: != @blocked6 ip6 saddr != @blocked6_hosts log prefix "portsentry-probe"'), trap);
      // The reply trap: the segment it lets through is logged as pending (user space holds it);
      // its RST as trapped only after the add succeeded, else as a reply user space decides on.
      assert.ok(trap.includes('update @trap_reply4 { ip saddr . tcp dport } log prefix "portsentry-pending" group 12'), trap);
      assert.ok(trap.includes('update @trap_reply6 { ip6 saddr . tcp dport } log prefix "portsentry-pending" group 12'), trap);
      const out = await list('trap_out');
      assert.match(out, /tcp sport @trap_reply4 update @trap_rate4 .* add @blocked4 \{ ip daddr \} log prefix "portsentry-trap-reply" group 12/);
      assert.match(out, /ip6 daddr != @trap_shared6 update @trap_rate6 .* add @blocked6 \{ ip6 daddr & ffff:ffff:ffff:ffff:: \} log prefix "portsentry-trap-reply" group 12/);
      const replyLeft = out.indexOf('tcp sport @trap_reply4 ip daddr != @blocked4 log prefix "portsentry-reply" group 12');
      assert.ok(replyLeft > 0 && replyLeft < out.indexOf('tcp sport @trap_reply4 counter packets 0 bytes 0 drop'), out);
      // Capture leaves what the reply trap let through to the trap's own log: logged once.
      await nft(nflogCaptureScript('t', { watch, group: 12 }));
      const skipping = await list('capture');
      const skip = skipping.indexOf('ct state invalid ip saddr . tcp dport @trap_reply4 return');
      assert.ok(skip > 0 && skip < skipping.indexOf('tcp dport 1-1024 tcp flags ! rst,ack'), skipping);
      assert.ok(skipping.includes('ct state invalid ip6 saddr . tcp dport @trap_reply6 return'), skipping);
      // Without a log group (interface capture) the trap logs nothing.
      await nft(trapScript('t', TRAP));
      assert.doesNotMatch(await list('trap'), /log prefix/);

      await nft(nflogCaptureScript('t', null));
      const chains = String((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chains', 'inet'])).stdout);
      assert.doesNotMatch(chains, /chain capture/);
    } finally {
      await run('ip', ['netns', 'delete', ns]);
    }
  });
});
