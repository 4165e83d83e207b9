// A laptop on home, office or cafe Wi-Fi meets its neighbours' discovery and service traffic
// all day: none of it may get a neighbour blackholed, in any mode, while a real scan from the
// same link is still caught at its first probes. Each kind is played from its own on-link
// address (a device of its own: the Windows PC, the printer manager, the router...), none in the
// ignore list; replies to this host's own DNS, NTP and SSDP queries arrive after the querying
// socket closed. The verdict waits for a barrier, not a clock: a sentinel's probe to a tripwire,
// sent after everything else, is blocked; only then are the neighbours' addresses looked for in
// the kernel's sets and the log.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../support/daemon-process.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { until } from '../support/wait.js';

// PortSentry 1.2's default tripwires, so the LAN ports among them (SNMP 161/162) are met too.
const TCP_PORTS = '1,11,15,79,111,119,143,540,635,1080,1524,2000,5742,6667,12345,12346,20034,27665,31337,32771,32772,32773,32774,40421,49724,54320';
const UDP_PORTS = '1,7,9,69,161,162,513,635,640,641,700,37444,34555,31335,32770,32771,32772,32773,32774,31337,54321';

/** One datagram from address:port to address:port (bound first, so the source is exactly that). */
function udp(from: string, sport: number, to: string, dport: number, payload = 'x'): string[] {
  const script = [
    'import socket, sys',
    "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)",
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    's.bind((sys.argv[1], int(sys.argv[2])))',
    's.sendto(sys.argv[5].encode(), (sys.argv[3], int(sys.argv[4])))',
    's.close()',
  ].join('\n');
  return ['python3', '-c', script, from, String(sport), to, String(dport), payload];
}

/** A TCP connect from address to address:port (refused or not: the SYN is what counts). */
function connect(from: string, to: string, port: number): string[] {
  return ['socat', '-u', 'OPEN:/dev/null', `TCP4:${to}:${port},bind=${from},connect-timeout=2`];
}

const DEVICES = ['windows', 'printerManager', 'ippClient', 'router', 'phone', 'spotify', 'steam', 'dropbox', 'apple', 'backscatter', 'pinger', 'windows6'] as const;
type Device = (typeof DEVICES)[number];
/** Each device's address on the link (the neighbour namespace holds them all). */
const ADDRESS: Record<Device, string> = {
  windows: '198.18.0.101',
  printerManager: '198.18.0.102',
  ippClient: '198.18.0.103',
  router: '198.18.0.104',
  phone: '198.18.0.105',
  spotify: '198.18.0.106',
  steam: '198.18.0.107',
  dropbox: '198.18.0.108',
  apple: '198.18.0.109',
  backscatter: '198.18.0.110',
  pinger: '198.18.0.111',
  windows6: 'fd00:5e::101',
};

/** What the test host sends first (its own queries), then what the neighbour sends. */
interface Kind {
  readonly name: string;
  readonly query?: (target: string, modes: string) => string[];
  readonly play: (target: string, target6: string, modes: string) => string[];
}

/** The test host's own query ports: UDP tripwires in the stealth modes; in -udp our tripwire sockets hold those, so others. */
const queryPort = (modes: string, stealthPort: number) => (modes.startsWith('tcp') ? stealthPort + 10_000 : stealthPort);

const KINDS: readonly Kind[] = [
  { name: 'NetBIOS name query (unicast, 137)', play: (t) => udp(ADDRESS.windows, 137, t, 137) },
  { name: 'NetBIOS datagram (138)', play: (t) => udp(ADDRESS.windows, 138, t, 138) },
  { name: 'NetBIOS session connect (139)', play: (t) => connect(ADDRESS.windows, t, 139) },
  { name: 'SMB browsing connect (445)', play: (t) => connect(ADDRESS.windows, t, 445) },
  { name: 'SMB over IPv6 (445)', play: (_t, t6) => ['socat', '-u', 'OPEN:/dev/null', `TCP6:[${t6}]:445,bind=[${ADDRESS.windows6}],connect-timeout=2`] },
  {
    name: 'LLMNR reply to our query',
    query: () => udp('0.0.0.0', 40_355, '224.0.0.252', 5355),
    play: (t) => udp(ADDRESS.windows, 5355, t, 40_355),
  },
  {
    name: 'WS-Discovery ProbeMatch to our probe',
    query: () => udp('0.0.0.0', 40_702, '239.255.255.250', 3702),
    play: (t) => udp(ADDRESS.windows, 3702, t, 40_702),
  },
  { name: 'WS-Discovery unicast probe (3702)', play: (t) => udp(ADDRESS.windows, 3702, t, 3702) },
  { name: 'SNMP get from a printer manager (161)', play: (t) => udp(ADDRESS.printerManager, 40_161, t, 161) },
  { name: 'SNMP trap (162)', play: (t) => udp(ADDRESS.printerManager, 40_162, t, 162) },
  { name: 'IPP connect (631)', play: (t) => connect(ADDRESS.ippClient, t, 631) },
  { name: 'DHCP offer (unicast to 68)', play: (t) => udp(ADDRESS.router, 67, t, 68) },
  {
    name: 'SSDP reply to our M-SEARCH, after our socket closed',
    query: (_t, m) => udp('0.0.0.0', queryPort(m, 32_772), '239.255.255.250', 1900),
    play: (t, _t6, m) => udp(ADDRESS.router, 1900, t, queryPort(m, 32_772), 'HTTP/1.1 200 OK'),
  },
  { name: 'SSDP NOTIFY (unicast 1900)', play: (t) => udp(ADDRESS.router, 1900, t, 1900, 'NOTIFY * HTTP/1.1') },
  {
    name: 'late DNS reply to our query',
    query: (_t, m) => udp('0.0.0.0', queryPort(m, 32_771), ADDRESS.router, 53),
    play: (t, _t6, m) => udp(ADDRESS.router, 53, t, queryPort(m, 32_771)),
  },
  {
    name: 'late NTP reply to our query',
    query: (_t, m) => udp('0.0.0.0', queryPort(m, 32_773), ADDRESS.router, 123),
    play: (t, _t6, m) => udp(ADDRESS.router, 123, t, queryPort(m, 32_773)),
  },
  { name: 'KDE Connect announcement (UDP 1716)', play: (t) => udp(ADDRESS.phone, 1716, t, 1716) },
  { name: 'KDE Connect link (TCP 1716)', play: (t) => connect(ADDRESS.phone, t, 1716) },
  { name: 'Spotify discovery (57621)', play: (t) => udp(ADDRESS.spotify, 57_621, t, 57_621) },
  { name: 'Steam discovery (27036)', play: (t) => udp(ADDRESS.steam, 27_036, t, 27_036) },
  { name: 'Dropbox LAN sync (17500)', play: (t) => udp(ADDRESS.dropbox, 17_500, t, 17_500) },
  { name: 'mDNS unicast query (5353)', play: (t) => udp(ADDRESS.apple, 5353, t, 5353) },
  { name: 'backscatter SYN/ACK', play: (t) => ['hping3', '-q', '-c', '1', '-S', '-A', '-a', ADDRESS.backscatter, '-s', '80', '-p', '40123', t] },
  { name: 'backscatter RST', play: (t) => ['hping3', '-q', '-c', '1', '-R', '-a', ADDRESS.backscatter, '-s', '80', '-p', '40124', t] },
  { name: 'ICMP echo', play: (t) => ['hping3', '-q', '-1', '-c', '1', '-a', ADDRESS.pinger, t] },
];

describe("a laptop's LAN: neighbours' discovery and service traffic blocks no one, a scan is still caught", { timeout: 900_000 }, () => {
  let lab: Lab<'target' | 'neighbour' | 'sentinel' | 'scanner'>;
  let dir: string;

  before(async () => {
    lab = await createLab(['target', 'neighbour', 'sentinel', 'scanner']);
    const { target, neighbour } = lab.hosts;
    for (const device of DEVICES) {
      const address = ADDRESS[device];
      await lab.exec(neighbour, ['ip', 'addr', 'add', address.includes(':') ? `${address}/64` : `${address}/24`, 'dev', 'eth0', ...(address.includes(':') ? ['nodad'] : [])]);
    }
    // The test host's multicast queries (SSDP, LLMNR, WS-Discovery) need a route out.
    await lab.exec(target, ['ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-lan-'));
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  for (const modes of ['tcp udp', 'stcp sudp', 'atcp audp'] as const) {
    it(`no neighbour is blocked in the modes ${modes}, and nmap from the same link is caught`, async () => {
      const { target, neighbour, sentinel, scanner } = lab.hosts;
      const table = `pslan${modes.split(' ')[0]}`;
      const own = join(dir, table);
      await mkdir(own);
      await writeFile(join(own, 'ignore'), '');
      const conf = join(own, 'portsentry.conf');
      await writeFile(conf, helperConfigText(own, { NFT_TABLE: table, MODES: modes, TCP_PORTS, UDP_PORTS, RPC_SOCKET: '', RPC_ADMIN_SOCKET: '' }));
      const daemon = startDaemon(lab, target, ['-c', conf]);
      try {
        await daemon.waitFor('PortSentry is now active and listening');
        for (const kind of KINDS) {
          if (kind.query !== undefined) await lab.exec(target, kind.query(target.v4, modes));
          await lab.exec(neighbour, kind.play(target.v4, target.v6, modes), { allowFailure: true });
        }
        // The barrier: a probe of a tripwire no client uses, sent after all of the above (UDP 700
        // is watched in every mode), is handled after them; its block is in the kernel.
        await lab.exec(sentinel, udp(sentinel.v4, 40_700, target.v4, 700));
        await daemon.waitFor(`Host ${sentinel.v4} has been blocked`);
        await until('the sentinel is in the kernel set', async () => (await blockedSetsText(lab, target, table)).includes(sentinel.v4));
        const sets = await blockedSetsText(lab, target, table);
        for (const device of DEVICES) {
          const address = ADDRESS[device];
          assert.ok(!sets.includes(address), `${device} (${address}) is not in the kernel's block sets:\n${sets}`);
          assert.ok(!daemon.lines.some((line) => line.includes(`Host ${address} has been blocked`)), `${device} is not logged as blocked`);
        }
        // The printer manager's SNMP query was seen (161 is watched in every mode), and reported only.
        assert.ok(
          daemon.lines.some((line) => line.includes(`Host: ${ADDRESS.printerManager} touched UDP port: 161, reported, not blocked`)),
          `the SNMP query is reported:\n${daemon.lines.join('\n')}`,
        );
        // A real scan from the same link: caught at its first probes.
        const stealthy = !modes.startsWith('tcp');
        await lab.exec(scanner, ['nmap', stealthy ? '-sS' : '-sT', '-Pn', '-n', '--max-retries', '0', '-p', '1-1024', target.v4], { allowFailure: true, timeoutMs: 300_000 });
        await daemon.waitFor(`Host ${scanner.v4} has been blocked`);
        await until('the scanner is in the kernel set', async () => (await blockedSetsText(lab, target, table)).includes(scanner.v4));
      } finally {
        await daemon.stop();
        await lab.exec(target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
      }
    });
  }
});
