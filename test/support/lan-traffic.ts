// A laptop's LAN as traffic: the discovery and service packets its neighbours send all day,
// each from a device of its own on the link, and the replies to this host's own queries that
// arrive after the querying socket closed. Played by the benign-LAN e2e test (no neighbour may
// be blocked) and by the benchmark's false-blocks figure (ours beside Debian's portsentry 1.2).

/** One datagram from address:port to address:port (bound first, so the source is exactly that). */
export function udp(from: string, sport: number, to: string, dport: number, payload = 'x'): string[] {
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

export const DEVICES = ['windows', 'printerManager', 'ippClient', 'router', 'phone', 'spotify', 'steam', 'dropbox', 'apple', 'backscatter', 'pinger', 'windows6'] as const;
export type Device = (typeof DEVICES)[number];
/** Each device's address on the link (the neighbour namespace holds them all). */
export const ADDRESS: Record<Device, string> = {
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
export interface Kind {
  readonly name: string;
  readonly query?: (target: string, modes: string) => string[];
  readonly play: (target: string, target6: string, modes: string) => string[];
}

/** The test host's own query ports: UDP tripwires in the stealth modes; in -udp our tripwire sockets hold those, so others. */
export const queryPort = (modes: string, stealthPort: number) => (modes.startsWith('tcp') ? stealthPort + 10_000 : stealthPort);

export const KINDS: readonly Kind[] = [
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

/** The argv that gives a namespace's eth0 a device's address (IPv6 without duplicate detection, usable at once). */
export function deviceAddressArgv(device: Device): string[] {
  const address = ADDRESS[device];
  return address.includes(':') ? ['ip', 'addr', 'add', `${address}/64`, 'dev', 'eth0', 'nodad'] : ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0'];
}
