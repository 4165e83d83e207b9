// Probe kinds at the edges of what a scan is, seen from outside in the stealth and advanced
// modes with capture from netfilter and the kernel trap on. A segment with a bad checksum
// (nmap --badsum, hping3 -b) is dropped by the target's own stack: it reveals nothing, so it
// must block no one and log nothing (else anyone could fingerprint the detector with it, and
// spoofing would cost less). Each verdict of absence waits on a barrier: a later good probe
// from a sentinel host, handled in order after the ones judged, is logged first. TCP that
// belongs to no conversation (a lone ACK: nmap -sA, -sW, hping3 -A; FIN/ACK: nmap -sM) is a
// probe: detected with its kind, its sender blocked, and the scanner learns no port state. So
// are SCTP INIT and COOKIE ECHO (nmap -sY, -sZ) and IP protocol probes (nmap -sO), trapped at
// the first probe: no ICMP protocol unreachable (or ABORT) tells nmap anything.
// Every TCP one, and FIN, NULL and XMAS probes (which conntrack calls invalid, as it does a
// bad checksum), is blocked by the kernel at its first probe: the helper never runs nft for
// the scanner (an `nft monitor` in the target's namespace reports every element a program
// adds, and none of the trap's own adds), it learns the block from the trap's log.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { eventsOf, portsentryctl } from '../support/portsentryctl.js';
import { watchElementAdds, type ElementAdds } from '../support/kernel-state.js';
import { until } from '../support/wait.js';

/** The scans of TCP with no conversation: the tool's argv (before the address), the kind's words in the log and in events. */
const STRAY_SCANS = [
  { name: 'nmap -sA', family: 4, argv: ['nmap', '-sA'], words: 'TCP ACK scan', kind: 'ack' },
  { name: 'nmap -sA', family: 6, argv: ['nmap', '-sA'], words: 'TCP ACK scan', kind: 'ack' },
  { name: 'nmap -sW', family: 4, argv: ['nmap', '-sW'], words: 'TCP ACK scan', kind: 'ack' },
  { name: 'nmap -sM', family: 4, argv: ['nmap', '-sM'], words: 'TCP Maimon scan', kind: 'maimon' },
  { name: 'nmap -sM', family: 6, argv: ['nmap', '-sM'], words: 'TCP Maimon scan', kind: 'maimon' },
  { name: 'hping3 -A', family: 4, argv: ['hping3', '-q', '-A', '-c', '1'], words: 'TCP ACK scan', kind: 'ack' },
  { name: 'nmap -sF', family: 4, argv: ['nmap', '-sF'], words: 'TCP FIN scan', kind: 'fin' },
  { name: 'nmap -sF', family: 6, argv: ['nmap', '-sF'], words: 'TCP FIN scan', kind: 'fin' },
  { name: 'nmap -sN', family: 4, argv: ['nmap', '-sN'], words: ' TCP NULL scan', kind: 'null' },
  { name: 'nmap -sX', family: 6, argv: ['nmap', '-sX'], words: 'TCP XMAS scan', kind: 'xmas' },
  { name: 'hping3 -F (a lone FIN)', family: 4, argv: ['hping3', '-q', '-F', '-c', '1'], words: 'TCP FIN scan', kind: 'fin' },
] as const;
const strayHost = (i: number, suffix: string) => `stray${i}${suffix}`;

/**
 * SCTP and IP protocol probes: nmap's scan option, the log's words and what follows them (the
 * port or protocol touched), the kind in events, and the protocol list for -sO (all unused
 * here). With no answer nmap says filtered (-sY) or open|filtered (-sZ, -sO); an answer
 * (ICMP protocol unreachable, ABORT) would say closed.
 */
const OTHER_SCANS = [
  { scan: '-sY', family: 4, words: 'SCTP INIT scan', to: 'SCTP port: \\d+', kind: 'sctp-init' },
  { scan: '-sY', family: 6, words: 'SCTP INIT scan', to: 'SCTP port: \\d+', kind: 'sctp-init' },
  { scan: '-sZ', family: 4, words: 'SCTP COOKIE-ECHO scan', to: 'SCTP port: \\d+', kind: 'sctp-cookie-echo' },
  { scan: '-sZ', family: 6, words: 'SCTP COOKIE-ECHO scan', to: 'SCTP port: \\d+', kind: 'sctp-cookie-echo' },
  { scan: '-sO', family: 4, words: 'IP protocol scan', to: 'IP protocol: (99|100|253)', kind: 'ip-protocol' },
  { scan: '-sO', family: 6, words: 'IP protocol scan', to: 'IP protocol: (99|100|253)', kind: 'ip-protocol' },
] as const;
const otherHost = (i: number, suffix: string) => `other${i}${suffix}`;

const HOSTS = [
  'target',
  'badsum',
  'badudp',
  'sentinel',
  'badsumA',
  'badudpA',
  'sentinelA',
  ...STRAY_SCANS.map((_, i) => strayHost(i, '')),
  ...STRAY_SCANS.map((_, i) => strayHost(i, 'A')),
  ...OTHER_SCANS.map((_, i) => otherHost(i, '')),
  ...OTHER_SCANS.map((_, i) => otherHost(i, 'A')),
] as const;
type Host = string;

function escaped(address: string): string {
  return address.replace(/[.]/g, '\\.');
}

const MODES = [
  { modes: 'stcp sudp', tcpPort: 31337, udpPort: 54321, suffix: '', hosts: { badsum: 'badsum', badudp: 'badudp', sentinel: 'sentinel' } },
  { modes: 'atcp audp', tcpPort: 700, udpPort: 700, suffix: 'A', hosts: { badsum: 'badsumA', badudp: 'badudpA', sentinel: 'sentinelA' } },
] as const;

describe('probe kinds: what is a scan and what is not', { timeout: 900_000 }, () => {
  let lab: Lab<Host>;
  let dir: string;

  before(async () => {
    lab = await createLab(HOSTS);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-kinds-'));
  });

  const at = (name: Host): LabHost => {
    const found = lab.hosts[name];
    assert.ok(found !== undefined, name);
    return found;
  };

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  for (const mode of MODES) {
    describe(`portsentryd with ${mode.modes}`, () => {
      let daemon: DaemonProcess;
      let ctl: ReturnType<typeof portsentryctl>;
      let adds: ElementAdds;
      const table = `pskinds${mode.modes.split(' ')[0]}`;
      const host = (name: keyof typeof mode.hosts): LabHost => at(mode.hosts[name]);

      before(async () => {
        const own = join(dir, table);
        await mkdir(own);
        await writeFile(join(own, 'ignore'), '');
        const conf = join(own, 'portsentry.conf');
        await writeFile(
          conf,
          helperConfigText(own, {
            NFT_TABLE: table,
            MODES: mode.modes,
            TCP_PORTS: '1,79,111,31337',
            UDP_PORTS: '1,31337,54321',
            ADVANCED_PORTS_TCP: '1024',
            ADVANCED_PORTS_UDP: '1024',
            SCAN_TRIGGER: '0',
          }),
        );
        ctl = portsentryctl(join(own, 'run', 'admin', 'helper.sock'));
        daemon = startDaemon(lab, at('target'), ['-c', conf]);
        await daemon.waitFor('PortSentry is now active and listening');
        adds = await watchElementAdds(lab, at('target'), until);
      });

      after(async () => {
        await adds?.close();
        await daemon?.stop();
        await lab.exec(at('target'), ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
      });

      it('a bad checksum (nmap --badsum -sS and -sY over IPv4 and IPv6, hping3 -b UDP) blocks no one and logs nothing', async () => {
        const target = at('target');
        const badsum = host('badsum');
        const badudp = host('badudp');
        const sentinel = host('sentinel');
        const nmap = ['nmap', '-sS', '--badsum', '-Pn', '-n', '--max-retries', '0', '-p', String(mode.tcpPort)];
        await lab.exec(badsum, [...nmap, '-4', target.v4], { timeoutMs: 60_000 });
        await lab.exec(badsum, [...nmap, '-6', target.v6], { timeoutMs: 60_000 });
        // SCTP's checksum is CRC32c: a wrong one is dropped unread too.
        const sctp = ['nmap', '-sY', '--badsum', '-Pn', '-n', '--max-retries', '0', '-p', String(mode.tcpPort)];
        await lab.exec(badsum, [...sctp, '-4', target.v4], { timeoutMs: 60_000 });
        await lab.exec(badsum, [...sctp, '-6', target.v6], { timeoutMs: 60_000 });
        // FIN probes with a bad checksum: the reply trap lets them through, the stack drops them, nothing answers.
        await lab.exec(badsum, ['nmap', '-sF', '--badsum', '-Pn', '-n', '--max-retries', '0', '-p', String(mode.tcpPort), '-4', target.v4], { timeoutMs: 60_000 });
        await lab.exec(badsum, ['nmap', '-sF', '--badsum', '-Pn', '-n', '--max-retries', '0', '-p', String(mode.tcpPort), '-6', target.v6], { timeoutMs: 60_000 });
        await lab.exec(badudp, ['hping3', '-q', '--udp', '-b', '-c', '1', '-p', String(mode.udpPort), target.v4], { allowFailure: true });
        // The barrier: a good probe from a fresh source, sent after them, handled in order after them.
        await lab.exec(sentinel, ['hping3', '-q', '-S', '-c', '1', '-p', String(mode.tcpPort), target.v4], { allowFailure: true });
        await daemon.waitFor(new RegExp(`Host ${escaped(sentinel.v4)} has been blocked`));
        const sets = await blockedSetsText(lab, target, table);
        assert.ok(sets.includes(sentinel.v4), `the sentinel is blocked:\n${sets}`);
        for (const address of [badsum.v4, badsum.v6, badudp.v4]) {
          assert.ok(!sets.includes(address), `${address} sent only bad checksums, yet is in a blocked set:\n${sets}`);
          const said = daemon.lines.filter((l) => l.includes(address));
          assert.deepEqual(said, [], `${address} sent only bad checksums, yet was logged`);
        }
      });

      STRAY_SCANS.forEach((scan, i) => {
        it(`${scan.name} over IPv${scan.family} (TCP with no conversation) is detected as "${scan.words.trim()}", blocked by the kernel at its first probe, and learns no port state`, async () => {
          const target = at('target');
          const scanner = at(strayHost(i, mode.suffix));
          const [source, address] = scan.family === 4 ? [scanner.v4, target.v4] : [scanner.v6, target.v6];
          const ports = `${mode.tcpPort},79,111`;
          const argv = scan.argv[0] === 'nmap' ? [...scan.argv, `-${scan.family}`, '-Pn', '-n', '--max-retries', '0', '-p', ports, address] : [...scan.argv, '-p', String(mode.tcpPort), address];
          const output = (await lab.exec(scanner, argv, { timeoutMs: 60_000, allowFailure: scan.argv[0] === 'hping3' })).stdout;
          await daemon.waitFor(new RegExp(`${scan.words} from host: ${escaped(source)}/${escaped(source)} to TCP port: \\d+`));
          await daemon.waitFor(new RegExp(`Host ${escaped(source)} has been blocked`));
          const sets = await blockedSetsText(lab, target, table);
          assert.ok(sets.includes(source), `the scanner is in a blocked set:\n${sets}`);
          // The kernel blocked it at the first probe: the helper learned that and ran no nft for it.
          await adds.settled();
          const added = adds.lines.filter((line) => new RegExp(`${escaped(source)}(?![0-9a-f:])`).test(line));
          assert.deepEqual(added, [], `the helper ran nft to block ${source}: the kernel had not blocked it`);
          const kinds = new Set((await eventsOf(ctl, source)).map((e) => (e as { kind?: string }).kind).filter((k) => k !== undefined));
          assert.ok(kinds.has(scan.kind), `events name the kind ${scan.kind}: ${[...kinds].join(', ')}`);
          if (scan.argv[0] === 'nmap') {
            // An answered ACK would say "unfiltered", an answered Maimon probe "closed".
            assert.doesNotMatch(output, /\b(unfiltered|closed)\b/, output);
            assert.match(output, /filtered/, output);
          } else assert.doesNotMatch(output, /flags=R/, `hping3 got a RST back:\n${output}`);
        });
      });

      OTHER_SCANS.forEach((scan, i) => {
        it(`nmap ${scan.scan} over IPv${scan.family} is detected as "${scan.words}", blocked at its first probe, and learns nothing`, async () => {
          const target = at('target');
          const scanner = at(otherHost(i, mode.suffix));
          const [source, address] = scan.family === 4 ? [scanner.v4, target.v4] : [scanner.v6, target.v6];
          const ports = scan.scan === '-sO' ? '99,100,253' : `${mode.tcpPort},79,111`;
          const argv = ['nmap', scan.scan, `-${scan.family}`, '-Pn', '-n', '--max-retries', '0', '-p', ports, address];
          const output = (await lab.exec(scanner, argv, { timeoutMs: 60_000 })).stdout;
          await daemon.waitFor(new RegExp(`${scan.words} from host: ${escaped(source)}/${escaped(source)} to ${scan.to}`));
          await daemon.waitFor(new RegExp(`Host ${escaped(source)} has been blocked`));
          const sets = await blockedSetsText(lab, target, table);
          assert.ok(sets.includes(source), `the scanner is in a blocked set:\n${sets}`);
          const kinds = new Set((await eventsOf(ctl, source)).map((e) => (e as { kind?: string }).kind).filter((k) => k !== undefined));
          assert.ok(kinds.has(scan.kind), `events name the kind ${scan.kind}: ${[...kinds].join(', ')}`);
          // Every probe went unanswered: no state but filtered (or open|filtered) was learned.
          assert.doesNotMatch(output, /^\d+(\/sctp)?\s+(open|closed|unfiltered)\s/m, output);
          assert.match(output, /filtered/, output);
        });
      });
    });
  }
});
