// Host discovery sweeps seen from outside, in the stealth modes with capture from netfilter:
// what `nmap -sn` sends (ICMP echo -PE, timestamp -PP, address mask -PM; ICMPv6 echo) and
// hping3 --icmp, each from a fresh source, is reported as a sweep (log line and scan record),
// not blocked by default, and blocked with HOST_DISCOVERY="block". Echo requests come from
// off-link sources (an address outside the target's interface networks, routed through the
// scanner's namespace): an on-link neighbour's lone ping is ordinary LAN traffic and reports
// nothing, nor do the replies to this host's own pings. Each verdict of absence waits on a
// barrier: a later sweep from a sentinel, handled in order after the packets judged, is logged first.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';

/** nmap's host discovery only (-sn), no ARP/ND ping (on the link nmap would ask ARP instead), no DNS. */
const NMAP_SN = ['nmap', '-sn', '-n', '--disable-arp-ping', '--max-retries', '0'];

interface Sweep {
  readonly name: string;
  /** The address family of the probe, and whether its source is off-link. */
  readonly family: 4 | 6;
  readonly offLink: boolean;
  /** argv for the scanner host; `source` is the address it sends from, `target` the target's. */
  readonly argv: (source: string, target: string) => string[];
  readonly words: string;
  readonly kind: string;
}

const SWEEPS: readonly Sweep[] = [
  { name: 'nmap -sn -PE', family: 4, offLink: true, argv: (s, t) => [...NMAP_SN, '-PE', '-S', s, '-e', 'eth0', t], words: 'ICMP echo sweep', kind: 'icmp-echo' },
  { name: 'nmap -sn -PP', family: 4, offLink: false, argv: (_s, t) => [...NMAP_SN, '-PP', t], words: 'ICMP timestamp sweep', kind: 'icmp-timestamp' },
  { name: 'nmap -sn -PM', family: 4, offLink: false, argv: (_s, t) => [...NMAP_SN, '-PM', t], words: 'ICMP address mask sweep', kind: 'icmp-mask' },
  { name: 'nmap -6 -sn -PE', family: 6, offLink: true, argv: (s, t) => [...NMAP_SN, '-6', '-PE', '-S', s, '-e', 'eth0', t], words: 'ICMPv6 echo sweep', kind: 'icmp-echo' },
  { name: 'hping3 --icmp', family: 4, offLink: true, argv: (s, t) => ['hping3', '-q', '--icmp', '-c', '1', '-a', s, t], words: 'ICMP echo sweep', kind: 'icmp-echo' },
];

/** Each scanner's off-link address: outside the lab's 198.18.0.0/24 and fd00:5e::/64, inside the test ranges. */
const offLinkAddress = (family: 4 | 6, i: number, block: boolean) => (family === 4 ? `198.19.${block ? 2 : 1}.${10 + i}` : `fd00:77:${block ? 2 : 1}::${10 + i}`);

const BLOCKING = [SWEEPS[1]!, SWEEPS[4]!] as const;

const HOSTS = ['target', 'peer', 'neighbour', 'sentinel', 'sentinelB', ...SWEEPS.map((_, i) => `sweep${i}`), ...BLOCKING.map((_, i) => `sweepB${i}`)] as const;

function escaped(address: string): string {
  return address.replace(/[.]/g, '\\.');
}

describe('host discovery sweeps: reported (blocked with HOST_DISCOVERY="block"), never a false alarm', { timeout: 900_000 }, () => {
  let lab: Lab<string>;
  let dir: string;

  before(async () => {
    lab = await createLab(HOSTS);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-sweeps-'));
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const at = (name: string): LabHost => {
    const found = lab.hosts[name];
    assert.ok(found !== undefined, name);
    return found;
  };

  /** The address a sweep is sent from: the host's own on the link, or an off-link one routed through it. */
  async function sourceOf(sweep: Sweep, host: LabHost, i: number, block: boolean): Promise<string> {
    if (!sweep.offLink) return sweep.family === 4 ? host.v4 : host.v6;
    const address = offLinkAddress(sweep.family, i, block);
    const v6 = sweep.family === 6;
    await lab.exec(host, ['ip', ...(v6 ? ['-6'] : []), 'addr', 'add', `${address}/${v6 ? 128 : 32}`, 'dev', 'eth0', ...(v6 ? ['nodad'] : [])]);
    // The target reaches it through the scanner's namespace (its echo replies go there too).
    await lab.exec(at('target'), ['ip', ...(v6 ? ['-6'] : []), 'route', 'add', address, 'via', v6 ? host.v6 : host.v4]);
    return address;
  }

  async function startWith(table: string, keys: Readonly<Record<string, string>>): Promise<DaemonProcess> {
    const own = join(dir, table);
    await mkdir(own);
    await writeFile(join(own, 'ignore'), '');
    const conf = join(own, 'portsentry.conf');
    await writeFile(conf, helperConfigText(own, { NFT_TABLE: table, MODES: 'stcp sudp', TCP_PORTS: '1,79,111,31337', UDP_PORTS: '1,31337,54321', SCAN_TRIGGER: '0', SCAN_SUMMARY_LOG: '1', ...keys }));
    const daemon = startDaemon(lab, at('target'), ['-c', conf]);
    await daemon.waitFor('PortSentry is now active and listening');
    return daemon;
  }

  describe('the default (HOST_DISCOVERY="report")', () => {
    let daemon: DaemonProcess;
    const table = 'pssweeps';

    before(async () => {
      daemon = await startWith(table, {});
    });

    after(async () => {
      await daemon?.stop();
      await lab.exec(at('target'), ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    });

    SWEEPS.forEach((sweep, i) => {
      it(`${sweep.name} over IPv${sweep.family} from ${sweep.offLink ? 'off-link' : 'an on-link neighbour'} is reported as "${sweep.words}", with a scan record, and not blocked`, async () => {
        const target = at('target');
        const scanner = at(`sweep${i}`);
        const source = await sourceOf(sweep, scanner, i, false);
        await lab.exec(scanner, sweep.argv(source, sweep.family === 4 ? target.v4 : target.v6), { timeoutMs: 60_000, allowFailure: true });
        await daemon.waitFor(new RegExp(`attackalert: ${sweep.words} from host: ${escaped(source)}/${escaped(source)}: reported, not blocked`));
        // An IPv6 scan is recorded for the network a block would cover (BLOCK_PREFIX6, /64 here).
        const scope = sweep.family === 6 ? `${source.slice(0, source.lastIndexOf('::'))}::/64` : source;
        await daemon.waitFor(new RegExp(`Scan summary: host ${escaped(scope)}: .*\\b${sweep.kind}\\b.*: reported`));
        const sets = await blockedSetsText(lab, target, table);
        assert.ok(!sets.includes(source), `a sweep is only reported by default, yet ${source} is in a blocked set:\n${sets}`);
        assert.ok(!daemon.lines.some((line) => line.includes(`Host ${source} has been blocked`)), `${source} is not logged as blocked`);
      });
    });

    it("this host's own pings and their replies, and an on-link neighbour's lone ping, report nothing", async () => {
      const target = at('target');
      const peer = at('peer');
      const neighbour = at('neighbour');
      const sentinel = at('sentinel');
      // One echo request each way, answered (ping(8) is not installed here: hping3 and nmap send the same request).
      const ping4 = (to: string) => ['hping3', '-q', '--icmp', '-c', '1', to];
      const ping6 = (to: string) => [...NMAP_SN, '-6', '-PE', to];
      await lab.exec(target, ping4(peer.v4), { timeoutMs: 60_000, allowFailure: true });
      await lab.exec(target, ping6(peer.v6), { timeoutMs: 60_000 });
      await lab.exec(neighbour, ping4(target.v4), { timeoutMs: 60_000, allowFailure: true });
      await lab.exec(neighbour, ping6(target.v6), { timeoutMs: 60_000 });
      // The barrier: a timestamp sweep from a fresh source, sent after all of the above, handled after them.
      await lab.exec(sentinel, [...NMAP_SN, '-PP', target.v4], { timeoutMs: 60_000, allowFailure: true });
      await daemon.waitFor(new RegExp(`ICMP timestamp sweep from host: ${escaped(sentinel.v4)}/`));
      for (const address of [peer.v4, peer.v6, neighbour.v4, neighbour.v6]) {
        const said = daemon.lines.filter((line) => line.includes(address));
        assert.deepEqual(said, [], `${address} only answered this host's ping or pinged once from the link, yet was logged`);
      }
    });
  });

  describe('HOST_DISCOVERY="block"', () => {
    let daemon: DaemonProcess;
    const table = 'pssweepsb';

    before(async () => {
      daemon = await startWith(table, { HOST_DISCOVERY: 'block' });
    });

    after(async () => {
      await daemon?.stop();
      await lab.exec(at('target'), ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    });

    BLOCKING.forEach((sweep, i) => {
      it(`${sweep.name} is reported as "${sweep.words}" and its sender blocked`, async () => {
        const target = at('target');
        const scanner = at(`sweepB${i}`);
        const source = await sourceOf(sweep, scanner, i, true);
        await lab.exec(scanner, sweep.argv(source, target.v4), { timeoutMs: 60_000, allowFailure: true });
        await daemon.waitFor(new RegExp(`attackalert: ${sweep.words} from host: ${escaped(source)}/${escaped(source)}: blocking`));
        await daemon.waitFor(new RegExp(`Host ${escaped(source)} has been blocked`));
        const sets = await blockedSetsText(lab, target, table);
        assert.ok(sets.includes(source), `the sweeper is in a blocked set:\n${sets}`);
      });
    });
  });
});
