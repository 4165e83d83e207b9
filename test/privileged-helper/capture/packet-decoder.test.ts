import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeFrame,
  LINKTYPE_NFLOG,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  type DecodeCounters,
  type DecodedPacket,
  crc32c,
} from '../../../privileged-helper/capture/packet-decoder.js';
import { withTransportChecksum } from '../../support/transport-checksum.js';

// Frames are assembled by hand, field by field, so the decoder is checked against the
// wire formats themselves rather than against its own reading of them.

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_VLAN = 0x8100;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;

function ipv4Bytes(address: string): number[] {
  const parts = address.split('.').map(Number);
  assert.equal(parts.length, 4);
  return parts;
}

/** 16 bytes of an IPv6 address written in hex groups, with at most one "::". */
function ipv6Bytes(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups].map((g) => Number.parseInt(g, 16));
  assert.equal(groups.length, 8, address);
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function tcp(sourcePort: number, destinationPort: number, flags: number): Buffer {
  const segment = Buffer.alloc(20);
  segment.writeUInt16BE(sourcePort, 0);
  segment.writeUInt16BE(destinationPort, 2);
  segment.writeUInt32BE(0x01020304, 4); // sequence
  segment[12] = 5 << 4; // data offset: 5 words
  segment[13] = flags;
  segment.writeUInt16BE(64240, 14); // window
  return segment;
}

function udp(sourcePort: number, destinationPort: number, payload = Buffer.from('hi')): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(sourcePort, 0);
  header.writeUInt16BE(destinationPort, 2);
  header.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([header, payload]);
}

interface Ipv4Options {
  readonly options?: Buffer;
  readonly fragmentOffset?: number; // in 8-byte units
  readonly moreFragments?: boolean;
  readonly dontFragment?: boolean;
}

function ipv4(source: string, destination: string, protocol: number, payload: Buffer, opts: Ipv4Options = {}): Buffer {
  const options = opts.options ?? Buffer.alloc(0);
  assert.equal(options.length % 4, 0);
  const header = Buffer.alloc(20);
  header[0] = (4 << 4) | ((20 + options.length) / 4);
  header.writeUInt16BE(20 + options.length + payload.length, 2);
  header.writeUInt16BE(0x1234, 4);
  const flags = (opts.dontFragment === true ? 0x4000 : 0) | (opts.moreFragments === true ? 0x2000 : 0);
  header.writeUInt16BE(flags | (opts.fragmentOffset ?? 0), 6);
  header[8] = 64;
  header[9] = protocol;
  Buffer.from(ipv4Bytes(source)).copy(header, 12);
  Buffer.from(ipv4Bytes(destination)).copy(header, 16);
  return withTransportChecksum(Buffer.concat([header, options, payload]));
}

/** An IPv6 packet; `chain` is the extension headers, already linked by their own next fields. */
function ipv6(source: string, destination: string, nextHeader: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32BE(6 << 28, 0);
  header.writeUInt16BE(payload.length, 4);
  header[6] = nextHeader;
  header[7] = 64;
  Buffer.from(ipv6Bytes(source)).copy(header, 8);
  Buffer.from(ipv6Bytes(destination)).copy(header, 24);
  return withTransportChecksum(Buffer.concat([header, payload]));
}

/** Hop-by-hop (0), routing (43) or destination options (60): (units + 1) * 8 bytes. */
function extensionHeader(next: number, units: number): Buffer {
  const header = Buffer.alloc((units + 1) * 8, 0);
  header[0] = next;
  header[1] = units;
  header[2] = 1; // PadN option type, so the option area is well-formed
  header[3] = header.length - 4;
  return header;
}

function fragmentHeader(next: number, offsetUnits: number, more: boolean): Buffer {
  const header = Buffer.alloc(8);
  header[0] = next;
  header.writeUInt16BE((offsetUnits << 3) | (more ? 1 : 0), 2);
  header.writeUInt32BE(0xdeadbeef, 4);
  return header;
}

/** Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address. */
function sll2(etherType: number, packetType: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(etherType, 0);
  header.writeUInt32BE(2, 4);
  header.writeUInt16BE(1, 8); // ARPHRD_ETHER
  header[10] = packetType;
  header[11] = 6;
  Buffer.from([2, 0, 0, 0, 0, 1]).copy(header, 12);
  return Buffer.concat([header, payload]);
}

/** Linux cooked v1: packet type, ARPHRD, address length, address, protocol. */
function sll(packetType: number, etherType: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(packetType, 0);
  header.writeUInt16BE(1, 2);
  header.writeUInt16BE(6, 4);
  Buffer.from([2, 0, 0, 0, 0, 1]).copy(header, 6);
  header.writeUInt16BE(etherType, 14);
  return Buffer.concat([header, payload]);
}

function ethernet(etherType: number, payload: Buffer, vlanId?: number): Buffer {
  const macs = Buffer.from([2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 0x0b]);
  const type = Buffer.alloc(2);
  type.writeUInt16BE(etherType);
  if (vlanId === undefined) return Buffer.concat([macs, type, payload]);
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE(ETH_VLAN, 0);
  tag.writeUInt16BE(vlanId, 2);
  return Buffer.concat([macs, tag, type, payload]);
}

const SCANNER = '198.18.0.11';
const US = '198.18.0.10';
const SCANNER6 = 'fd00:5e::b';
const US6 = 'fd00:5e::a';

function expected(overrides: Partial<DecodedPacket>): DecodedPacket {
  return {
    direction: 'in',
    family: 4,
    source: SCANNER,
    destination: US,
    protocol: 'tcp',
    sourcePort: 40001,
    destinationPort: 31337,
    tcpFlags: 0x02,
    ipOptions: false,
    ...overrides,
  };
}

describe('decodeFrame link layers', () => {
  it('SLL2 (276) IPv4 TCP, packet type 0: inbound, every field', () => {
    const frame = sll2(ETH_IPV4, 0, ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02)));
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL2, frame), expected({}));
    assert.equal(LINKTYPE_LINUX_SLL2, 276);
  });

  it('SLL2 direction comes from the packet type: 0/1/2 in, 4 out, 3 unknown', () => {
    const ip = ipv4(US, SCANNER, PROTO_TCP, tcp(40001, 31337, 0x02));
    const seen = [0, 1, 2, 3, 4].map((type) => decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV4, type, ip))?.direction);
    assert.deepEqual(seen, ['in', 'in', 'in', 'unknown', 'out']);
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV4, 4, ip)), expected({ direction: 'out', source: US, destination: SCANNER }));
  });

  it('SLL (113) IPv6 UDP, packet types 0 and 4', () => {
    assert.equal(LINKTYPE_LINUX_SLL, 113);
    const ip = ipv6(SCANNER6, US6, PROTO_UDP, udp(5353, 161));
    const want = expected({ family: 6, source: SCANNER6, destination: US6, protocol: 'udp', sourcePort: 5353, destinationPort: 161, tcpFlags: 0 });
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL, sll(0, ETH_IPV6, ip)), want);
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL, sll(4, ETH_IPV6, ip)), { ...want, direction: 'out' });
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL, sll(3, ETH_IPV6, ip))?.direction, 'unknown');
  });

  it('SLL IPv4 TCP: the protocol is read at offset 14, not at the SLL2 offset', () => {
    const frame = sll(0, ETH_IPV4, ipv4(SCANNER, US, PROTO_TCP, tcp(1, 2, 0x29)));
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL, frame), expected({ sourcePort: 1, destinationPort: 2, tcpFlags: 0x29 }));
    // The same bytes read as SLL2 do not make a packet.
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, frame), null);
  });

  it('Ethernet (1) without and with a VLAN tag; direction is unknown', () => {
    assert.equal(LINKTYPE_ETHERNET, 1);
    const ip = ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x01));
    const want = expected({ direction: 'unknown', tcpFlags: 0x01 });
    assert.deepEqual(decodeFrame(LINKTYPE_ETHERNET, ethernet(ETH_IPV4, ip)), want);
    assert.deepEqual(decodeFrame(LINKTYPE_ETHERNET, ethernet(ETH_IPV4, ip, 42)), want);
    const ip6 = ipv6(SCANNER6, US6, PROTO_TCP, tcp(40001, 22, 0x02));
    assert.deepEqual(decodeFrame(LINKTYPE_ETHERNET, ethernet(ETH_IPV6, ip6, 7)), expected({ direction: 'unknown', family: 6, source: SCANNER6, destination: US6, destinationPort: 22 }));
  });

  it('Ethernet carrying something other than IP (ARP) is null', () => {
    assert.equal(decodeFrame(LINKTYPE_ETHERNET, ethernet(ETH_ARP, Buffer.alloc(28))), null);
    assert.equal(decodeFrame(LINKTYPE_ETHERNET, ethernet(ETH_ARP, Buffer.alloc(28), 5)), null);
  });

  it('RAW (101): the IP version nibble picks IPv4 or IPv6', () => {
    assert.equal(LINKTYPE_RAW, 101);
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_UDP, udp(53, 7))), expected({ direction: 'unknown', protocol: 'udp', sourcePort: 53, destinationPort: 7, tcpFlags: 0 }));
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, PROTO_TCP, tcp(40001, 31337, 0))), expected({ direction: 'unknown', family: 6, source: SCANNER6, destination: US6, tcpFlags: 0 }));
    assert.equal(decodeFrame(LINKTYPE_RAW, Buffer.alloc(0)), null);
  });

  it('an unknown link type is null', () => {
    const ip = ipv4(SCANNER, US, PROTO_TCP, tcp(1, 2, 2));
    for (const linkType of [0, 105, 127, 228, 229, 277, -1]) assert.equal(decodeFrame(linkType, ip), null, String(linkType));
  });
});

describe('decodeFrame IPv4', () => {
  it('IPv4 with options: ipOptions true and ports read after the options', () => {
    // Record-route-like option area: 8 bytes (NOP NOP NOP NOP, EOL padding).
    const options = Buffer.from([1, 1, 1, 1, 0, 0, 0, 0]);
    const frame = sll2(ETH_IPV4, 0, ipv4(SCANNER, US, PROTO_TCP, tcp(1111, 2222, 0x02), { options }));
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL2, frame), expected({ sourcePort: 1111, destinationPort: 2222, ipOptions: true }));
    // The smallest option area (one 32-bit word: IHL 6).
    const oneWord = sll2(ETH_IPV4, 0, ipv4(SCANNER, US, PROTO_TCP, tcp(5555, 6666, 0x01), { options: Buffer.from([1, 1, 1, 0]) }));
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL2, oneWord), expected({ sourcePort: 5555, destinationPort: 6666, tcpFlags: 0x01, ipOptions: true }));
    // The largest header IHL allows (60 bytes).
    const max = sll2(ETH_IPV4, 0, ipv4(SCANNER, US, PROTO_UDP, udp(3333, 4444), { options: Buffer.alloc(40, 1) }));
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL2, max), expected({ protocol: 'udp', sourcePort: 3333, destinationPort: 4444, tcpFlags: 0, ipOptions: true }));
  });

  it('an IHL below 5 or a version other than 4 is null', () => {
    const good = ipv4(SCANNER, US, PROTO_TCP, tcp(1, 2, 2));
    const shortIhl = Buffer.from(good);
    shortIhl[0] = 0x44;
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV4, 0, shortIhl)), null);
    const wrongVersion = Buffer.from(good);
    wrongVersion[0] = 0x65;
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV4, 0, wrongVersion)), null);
    // An IHL longer than the captured bytes.
    const longIhl = Buffer.from(good.subarray(0, 30));
    longIhl[0] = 0x4f;
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV4, 0, longIhl)), null);
  });

  it('a first fragment (offset 0, more fragments) is decoded; a non-first fragment is null', () => {
    const first = ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02), { moreFragments: true });
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, first), expected({ direction: 'unknown' }));
    const dontFragment = ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02), { dontFragment: true });
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, dontFragment), expected({ direction: 'unknown' }));
    // Payload bytes that happen to look like a TCP header must not be read as one.
    for (const offset of [1, 3, 185, 0x1000, 0x1fff]) {
      const later = ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02), { fragmentOffset: offset, moreFragments: offset !== 0x1fff });
      assert.equal(decodeFrame(LINKTYPE_RAW, later), null, `offset ${offset}`);
    }
  });

  it('a protocol nothing here uses is named by its number, ICMP is decoded for host discovery, GRE is null; a short TCP or UDP header is null', () => {
    const other = { direction: 'unknown', protocol: 'ip', sourcePort: 0, destinationPort: 0, tcpFlags: 0 } as const;
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_ICMP, Buffer.alloc(8)))?.protocol, 'icmp');
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, 47, Buffer.alloc(8))), null, 'GRE');
    // nmap -sO sends most protocols with no payload at all.
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, 99, Buffer.alloc(0))), expected({ ...other, ipProtocol: 99 }));
    // IPv6: the protocol after the extension headers.
    const chained = ipv6(SCANNER6, US6, 60, Buffer.concat([extensionHeader(253, 0), Buffer.alloc(4)]));
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, chained), expected({ ...other, family: 6, source: SCANNER6, destination: US6, ipProtocol: 253 }));
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_TCP, tcp(1, 2, 2).subarray(0, 13))), null);
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_UDP, udp(1, 2).subarray(0, 7))), null);
    // 14 bytes of TCP are enough for ports and flags.
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_TCP, tcp(1, 2, 0x03).subarray(0, 14))), expected({ direction: 'unknown', sourcePort: 1, destinationPort: 2, tcpFlags: 0x03 }));
  });

  it('ICMP (host discovery): the type is read, ports are 0; ICMPv6 only over IPv6, ICMP only over IPv4; a short header is null', () => {
    const echo = Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]);
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_ICMP, echo)), expected({ direction: 'unknown', protocol: 'icmp', sourcePort: 0, destinationPort: 0, tcpFlags: 0, icmpType: 8 }));
    const echo6 = Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]);
    const six = decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, 58, echo6));
    assert.equal(six?.protocol, 'icmp');
    assert.equal(six?.icmpType, 128);
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, PROTO_ICMP, echo)), null);
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, 58, echo6)), null);
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_ICMP, echo.subarray(0, 3))), null);
  });

  it('addresses and ports at the edges of their ranges', () => {
    const frame = ipv4('1.0.0.0', '255.255.255.255', PROTO_UDP, udp(0, 65535));
    assert.deepEqual(
      decodeFrame(LINKTYPE_RAW, frame),
      expected({ direction: 'unknown', source: '1.0.0.0', destination: '255.255.255.255', protocol: 'udp', sourcePort: 0, destinationPort: 65535, tcpFlags: 0 }),
    );
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, PROTO_TCP, tcp(65535, 1, 0xff)))?.tcpFlags, 0xff);
  });
});

describe('decodeFrame IPv6', () => {
  it('canonical compressed lower-case addresses', () => {
    const frame = ipv6('FD00:005E:0:0:0:0:0:000B', 'fd00:5e:0:0:1:0:0:a', PROTO_TCP, tcp(40001, 31337, 2));
    const packet = decodeFrame(LINKTYPE_RAW, frame);
    assert.equal(packet?.source, 'fd00:5e::b');
    assert.equal(packet?.destination, 'fd00:5e::1:0:0:a');
    assert.equal(packet?.family, 6);
    assert.equal(packet?.ipOptions, false);
  });

  it('steps over hop-by-hop and destination-options headers to the TCP header', () => {
    const chain = Buffer.concat([extensionHeader(60, 0), extensionHeader(PROTO_TCP, 1), tcp(40001, 31337, 0x02)]);
    const frame = sll2(ETH_IPV6, 0, ipv6(SCANNER6, US6, 0, chain));
    assert.deepEqual(decodeFrame(LINKTYPE_LINUX_SLL2, frame), expected({ family: 6, source: SCANNER6, destination: US6 }));
    // A routing header (43) and a 24-byte hop-by-hop header before UDP.
    const routed = Buffer.concat([extensionHeader(43, 2), extensionHeader(PROTO_UDP, 0), udp(9, 10)]);
    assert.deepEqual(
      decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV6, 0, ipv6(SCANNER6, US6, 0, routed))),
      expected({ family: 6, source: SCANNER6, destination: US6, protocol: 'udp', sourcePort: 9, destinationPort: 10, tcpFlags: 0 }),
    );
  });

  it('an extension header claiming more bytes than were captured is null', () => {
    const chain = Buffer.concat([extensionHeader(PROTO_TCP, 0), tcp(40001, 31337, 0x02)]);
    chain[1] = 30; // 248 bytes, far past the end
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, 0, chain)), null);
  });

  it('a first fragment is decoded; a non-first fragment is null', () => {
    const first = ipv6(SCANNER6, US6, 44, Buffer.concat([fragmentHeader(PROTO_TCP, 0, true), tcp(40001, 31337, 0x02)]));
    assert.deepEqual(decodeFrame(LINKTYPE_RAW, first), expected({ direction: 'unknown', family: 6, source: SCANNER6, destination: US6 }));
    // Hop-by-hop before the fragment header, as the order rules allow.
    const hopFirst = ipv6(SCANNER6, US6, 0, Buffer.concat([extensionHeader(44, 0), fragmentHeader(PROTO_UDP, 0, true), udp(7, 8)]));
    assert.deepEqual(
      decodeFrame(LINKTYPE_RAW, hopFirst),
      expected({ direction: 'unknown', family: 6, source: SCANNER6, destination: US6, protocol: 'udp', sourcePort: 7, destinationPort: 8, tcpFlags: 0 }),
    );
    for (const offset of [1, 185, 0x1000, 0x1fff]) {
      const later = ipv6(SCANNER6, US6, 44, Buffer.concat([fragmentHeader(PROTO_TCP, offset, false), tcp(40001, 31337, 0x02)]));
      assert.equal(decodeFrame(LINKTYPE_RAW, later), null, `offset ${offset}`);
    }
  });

  it('an IPv4-mapped IPv6 source is dropped and counted, never turned into the IPv4 host it names', () => {
    const counters: DecodeCounters = { badSource: 0 };
    const frame = sll2(ETH_IPV6, 0, ipv6('::ffff:c612:4d', US6, PROTO_TCP, tcp(40001, 31337, 0x02)));
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, frame, counters), null);
    assert.equal(counters.badSource, 1);
    assert.equal(counters.lastBadSource, '0:0:0:0:0:ffff:c612:4d');
    assert.equal(counters.lastProblem, 'ipv4-mapped');
  });

  it('a transport that is neither TCP, UDP nor ICMPv6 (GRE, no next header) is null', () => {
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, 47, Buffer.alloc(8))), null);
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, 59, Buffer.alloc(0))), null);
  });

  it('a chain of more extension headers than it follows is null, not an endless loop', () => {
    const headers: Buffer[] = [];
    for (let i = 0; i < 20; i += 1) headers.push(extensionHeader(60, 0));
    headers.push(tcp(1, 2, 2));
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, 60, Buffer.concat(headers))), null);
  });
});

describe('decodeFrame: sources no remote host can have', () => {
  const v6Cases: Array<[string, string]> = [
    ['::ffff:c612:4d', 'ipv4-mapped'],
    ['::ffff:0:c612:4d', 'ipv4-compatible'],
    ['::c612:4d', 'ipv4-compatible'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['ff02::1', 'multicast'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
  ];
  for (const [source, problem] of v6Cases) {
    it(`IPv6 ${source}: dropped, counted as ${problem}`, () => {
      const counters: DecodeCounters = { badSource: 0 };
      assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV6, 0, ipv6(source, US6, PROTO_UDP, udp(1, 2))), counters), null);
      assert.deepEqual([counters.badSource, counters.lastProblem], [1, problem]);
    });
  }
  const v4Cases: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['127.0.0.1', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ];
  for (const [source, problem] of v4Cases) {
    it(`IPv4 ${source}: dropped, counted as ${problem}`, () => {
      const counters: DecodeCounters = { badSource: 0 };
      assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(source, US, PROTO_TCP, tcp(1, 2, 2)), counters), null);
      assert.deepEqual([counters.badSource, counters.lastProblem], [1, problem]);
    });
  }

  it('ordinary sources next to those ranges decode (fe00::, fec0::, 223.x, 169.253.x, 1.0.0.0, ::2:0:0:1)', () => {
    const counters: DecodeCounters = { badSource: 0 };
    for (const source of ['fe00::1', 'fec0::1', 'fd00:5e::b', '2001:db8::1', '0:0:0:1::1']) {
      assert.equal(decodeFrame(LINKTYPE_RAW, ipv6(source, US6, PROTO_TCP, tcp(1, 2, 2)), counters)?.family, 6, source);
    }
    for (const source of ['223.255.255.255', '169.253.0.1', '1.0.0.0', '126.255.255.255', '198.18.0.77']) {
      assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(source, US, PROTO_TCP, tcp(1, 2, 2)), counters)?.source, source);
    }
    assert.equal(counters.badSource, 0);
  });

  it('our own outgoing packets are never judged by their source; loopback-interface traffic is not counted', () => {
    const counters: DecodeCounters = { badSource: 0 };
    const outgoing = sll2(ETH_IPV6, 4, ipv6('fe80::a', 'fe80::b', PROTO_TCP, tcp(1, 2, 2)));
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, outgoing, counters)?.direction, 'out');
    const onLoopback = sll2(ETH_IPV4, 0, ipv4('127.0.0.1', '127.0.0.1', PROTO_TCP, tcp(1, 2, 2)));
    onLoopback.writeUInt16BE(772, 8); // ARPHRD_LOOPBACK
    assert.equal(decodeFrame(LINKTYPE_LINUX_SLL2, onLoopback, counters), null);
    assert.equal(counters.badSource, 0);
  });
});

describe('decodeFrame on truncated and random frames', () => {
  interface Case {
    readonly name: string;
    readonly linkType: number;
    readonly frame: Buffer;
    /** Bytes the decoder must have: link header + IP header(s) + 14 (TCP) or 8 (UDP). */
    readonly needed: number;
  }
  const cases: Case[] = [
    { name: 'SLL2 IPv4 TCP', linkType: LINKTYPE_LINUX_SLL2, frame: sll2(ETH_IPV4, 0, ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 2))), needed: 20 + 20 + 14 },
    { name: 'SLL2 IPv4+options UDP', linkType: LINKTYPE_LINUX_SLL2, frame: sll2(ETH_IPV4, 4, ipv4(SCANNER, US, PROTO_UDP, udp(1, 2), { options: Buffer.alloc(12, 1) })), needed: 20 + 32 + 8 },
    { name: 'SLL IPv6 TCP', linkType: LINKTYPE_LINUX_SLL, frame: sll(0, ETH_IPV6, ipv6(SCANNER6, US6, PROTO_TCP, tcp(3, 4, 1))), needed: 16 + 40 + 14 },
    { name: 'Ethernet VLAN IPv4 TCP', linkType: LINKTYPE_ETHERNET, frame: ethernet(ETH_IPV4, ipv4(SCANNER, US, PROTO_TCP, tcp(5, 6, 0x29)), 9), needed: 18 + 20 + 14 },
    { name: 'Ethernet IPv6 UDP', linkType: LINKTYPE_ETHERNET, frame: ethernet(ETH_IPV6, ipv6(SCANNER6, US6, PROTO_UDP, udp(7, 8))), needed: 14 + 40 + 8 },
    {
      name: 'RAW IPv6 hop-by-hop + dest-opts + fragment TCP',
      linkType: LINKTYPE_RAW,
      frame: ipv6(SCANNER6, US6, 0, Buffer.concat([extensionHeader(60, 1), extensionHeader(44, 0), fragmentHeader(PROTO_TCP, 0, true), tcp(9, 10, 0)])),
      needed: 40 + 16 + 8 + 8 + 14,
    },
  ];

  for (const { name, linkType, frame, needed } of cases) {
    it(`${name}: every prefix is null below ${needed} bytes and the full packet from there on`, () => {
      const full = decodeFrame(linkType, frame);
      assert.notEqual(full, null);
      for (let length = 0; length <= frame.length; length += 1) {
        let packet: DecodedPacket | null = null;
        assert.doesNotThrow(() => {
          packet = decodeFrame(linkType, frame.subarray(0, length));
        }, `length ${length}`);
        if (length < needed) assert.equal(packet, null, `length ${length}`);
        else assert.deepEqual(packet, full, `length ${length}`);
      }
    });
  }

  it('random bytes never throw, for every link type', () => {
    let state = 7;
    const next = () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state >>> 16;
    };
    const ipStart: Record<number, number> = { [LINKTYPE_LINUX_SLL2]: 20, [LINKTYPE_LINUX_SLL]: 16, [LINKTYPE_ETHERNET]: 14, [LINKTYPE_RAW]: 0 };
    let decoded = 0;
    for (let round = 0; round < 4000; round += 1) {
      const linkType = [LINKTYPE_LINUX_SLL2, LINKTYPE_LINUX_SLL, LINKTYPE_ETHERNET, LINKTYPE_RAW][round % 4]!;
      const frame = Buffer.from(Array.from({ length: next() % 120 }, () => next() & 0xff));
      // Make most frames look like IP so the deeper decoding paths are reached too.
      const at = ipStart[linkType]!;
      if (frame.length > at && round % 3 !== 0) frame[at] = round % 2 === 0 ? 0x45 : 0x60;
      if (linkType === LINKTYPE_LINUX_SLL2 && frame.length >= 2) frame.writeUInt16BE(round % 2 === 0 ? ETH_IPV4 : ETH_IPV6, 0);
      const packet = decodeFrame(linkType, frame);
      if (packet !== null) {
        decoded += 1;
        assert.ok(['tcp', 'udp', 'sctp', 'ip', 'icmp'].includes(packet.protocol));
        assert.ok(packet.sourcePort >= 0 && packet.sourcePort <= 65535);
      }
    }
    assert.ok(decoded > 0, 'some random frames should decode');
  });
});

/** One NFLOG TLV: 16-bit length and type in the writer's byte order, value padded to 4 bytes. */
function tlv(type: number, value: Buffer, littleEndian = true): Buffer {
  const head = Buffer.alloc(4);
  if (littleEndian) {
    head.writeUInt16LE(4 + value.length, 0);
    head.writeUInt16LE(type, 2);
  } else {
    head.writeUInt16BE(4 + value.length, 0);
    head.writeUInt16BE(type, 2);
  }
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

const NFULA_PACKET_HDR = 1;
const NFULA_INDEV = 4;
const NFULA_OUTDEV = 5;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;
const NFULA_HWTYPE = 15;

/** An NFLOG frame (DLT 239): family, version 0, group (big-endian), then TLVs. */
function nflog(family: 2 | 10, tlvs: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([family, 0, 0x27, 0x11]), ...tlvs]);
}

const u16 = (value: number) => Buffer.from([value >> 8, value & 0xff]);
const ifindex = Buffer.from([0, 0, 0, 2]);
const prefix = (text: string) => Buffer.from(`${text}\0`, 'latin1');

describe('decodeFrame NFLOG (239), from netfilter log groups', () => {
  it('a frame tcpdump -i nflog wrote in a lab (trap prefix, an nmap SYN): every field', () => {
    // Bytes as captured from `log prefix "portsentry-probe" group ...` on a veth, trimmed of nothing.
    const frame = Buffer.from(
      '02009311080001000800000015000a00706f727473656e7472792d70726f62650000000008000400000000021000080000060000d25c69e73639000006000f000001000006001100000e000012001000f2738ba93624d25c69e736390800000014000300000000006b1745f20000000000047c4f300009004500002c2f1600003706c87cc612000bc612000aec0c008f056ea7cb00000000600204006e170000020405b4',
      'hex',
    );
    assert.deepEqual(decodeFrame(LINKTYPE_NFLOG, frame), expected({ destinationPort: 143, sourcePort: 60428, logPrefix: 'portsentry-probe' }));
  });

  it('input-path frames are inbound, output-path frames outbound; IPv4 and IPv6; the prefix is kept', () => {
    const inbound = nflog(2, [
      tlv(NFULA_PACKET_HDR, Buffer.alloc(4)),
      tlv(NFULA_PREFIX, prefix('portsentry-trap')),
      tlv(NFULA_INDEV, ifindex),
      tlv(NFULA_PAYLOAD, ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02))),
    ]);
    assert.deepEqual(decodeFrame(LINKTYPE_NFLOG, inbound), expected({ logPrefix: 'portsentry-trap' }));
    const outbound = nflog(10, [tlv(NFULA_OUTDEV, ifindex), tlv(NFULA_PAYLOAD, ipv6(US6, SCANNER6, PROTO_UDP, udp(5353, 53)))]);
    assert.deepEqual(
      decodeFrame(LINKTYPE_NFLOG, outbound),
      expected({ direction: 'out', family: 6, source: US6, destination: SCANNER6, protocol: 'udp', sourcePort: 5353, destinationPort: 53, tcpFlags: 0 }),
    );
  });

  it('TLVs in big-endian order when the writer was big-endian', () => {
    const frame = nflog(2, [tlv(NFULA_INDEV, ifindex, false), tlv(NFULA_PAYLOAD, ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02)), false)]);
    assert.deepEqual(decodeFrame(LINKTYPE_NFLOG, frame, undefined, false), expected({}));
    assert.equal(decodeFrame(LINKTYPE_NFLOG, frame, undefined, true), null, 'read in the wrong order, the lengths make no sense');
  });

  it('a fragmented probe arrives reassembled: the whole TCP header is there, flags and all', () => {
    // nf_defrag runs before our hook: what NFLOG hands over is the reassembled datagram.
    const frame = nflog(2, [tlv(NFULA_INDEV, ifindex), tlv(NFULA_PAYLOAD, ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x29)))]);
    assert.equal(decodeFrame(LINKTYPE_NFLOG, frame)?.tcpFlags, 0x29);
  });

  it('an impossible source is counted and dropped; loopback traffic is judged as on lo', () => {
    const counters: DecodeCounters = { badSource: 0 };
    const multicast = nflog(2, [tlv(NFULA_INDEV, ifindex), tlv(NFULA_PAYLOAD, ipv4('224.0.0.5', US, PROTO_UDP, udp(1, 2)))]);
    assert.equal(decodeFrame(LINKTYPE_NFLOG, multicast, counters), null);
    assert.equal(counters.badSource, 1);
    const onLo = nflog(2, [tlv(NFULA_INDEV, ifindex), tlv(NFULA_HWTYPE, u16(772)), tlv(NFULA_PAYLOAD, ipv4(US, US, PROTO_UDP, udp(1, 2)))]);
    assert.equal(decodeFrame(LINKTYPE_NFLOG, onLo, counters)?.source, US);
    assert.equal(counters.badSource, 1, 'traffic of this host with itself is not a bad source');
  });

  it('truncated, overlong or odd frames are null, never a throw', () => {
    const good = nflog(2, [tlv(NFULA_INDEV, ifindex), tlv(NFULA_PAYLOAD, ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02)))]);
    for (let cut = 0; cut < good.length; cut += 1) decodeFrame(LINKTYPE_NFLOG, good.subarray(0, cut));
    assert.equal(decodeFrame(LINKTYPE_NFLOG, good.subarray(0, good.length - 30)), null, 'a TLV longer than the frame');
    assert.equal(decodeFrame(LINKTYPE_NFLOG, nflog(2, [tlv(NFULA_INDEV, ifindex)])), null, 'no payload');
    const wrongFamily = Buffer.from(good);
    wrongFamily[0] = 7;
    assert.equal(decodeFrame(LINKTYPE_NFLOG, wrongFamily), null);
    const zeroLength = Buffer.concat([Buffer.from([2, 0, 0, 1]), Buffer.from([0, 0, 9, 0])]);
    assert.equal(decodeFrame(LINKTYPE_NFLOG, zeroLength), null, 'a zero-length TLV cannot loop forever');
  });
});

describe('decodeFrame: segments with a bad checksum are no evidence', () => {
  /** The same packet (no extension headers) with its TCP/UDP checksum field set to `value`. */
  function withChecksumField(packet: Buffer, value: number): Buffer {
    const copy = Buffer.from(packet);
    copy.writeUInt16BE(value, checksumAt(copy));
    return copy;
  }
  function checksumAt(packet: Buffer): number {
    const v6 = packet[0]! >> 4 === 6;
    const protocol = v6 ? packet[6] : packet[9];
    return (v6 ? 40 : (packet[0]! & 0x0f) * 4) + (protocol === PROTO_UDP ? 6 : 16);
  }

  it('an arriving TCP or UDP segment whose checksum is wrong (nmap --badsum, hping3 -b) is dropped and counted, IPv4 and IPv6', () => {
    const counters: DecodeCounters = { badSource: 0 };
    const good = [ipv4(SCANNER, US, PROTO_TCP, tcp(40001, 31337, 0x02)), ipv4(SCANNER, US, PROTO_UDP, udp(40001, 54321)), ipv6(SCANNER6, US6, PROTO_TCP, tcp(40001, 31337, 0x10))];
    for (const packet of good) assert.notEqual(decodeFrame(LINKTYPE_RAW, packet, counters), null, 'the right checksum decodes');
    good.forEach((packet, i) => {
      const field = packet.readUInt16BE(checksumAt(packet));
      assert.equal(decodeFrame(LINKTYPE_RAW, withChecksumField(packet, (field + 1) & 0xffff), counters), null, `packet ${i}, checksum off by one`);
    });
    assert.equal(counters.badChecksum, 3);
    assert.equal(counters.badSource, 0);
  });

  it('an IPv4 datagram without a checksum (zero) decodes; an IPv6 one must have one', () => {
    assert.notEqual(decodeFrame(LINKTYPE_RAW, withChecksumField(ipv4(SCANNER, US, PROTO_UDP, udp(1, 54321)), 0)), null);
    assert.equal(decodeFrame(LINKTYPE_RAW, withChecksumField(ipv6(SCANNER6, US6, PROTO_UDP, udp(1, 54321)), 0)), null);
  });

  it('the partial checksum a kernel sender on the same machine leaves (CHECKSUM_PARTIAL over veth, as measured) decodes', () => {
    // Measured with tcpdump -i nflog in a lab: a kernel TCP SYN from 198.18.9.1 over veth
    // arrived with cksum 0x9e56 ("incorrect -> 0x3d03"), the folded pseudo-header sum, and a
    // kernel UDP datagram of 6 bytes with 0x9e47.
    const syn = ipv4('198.18.9.1', '198.18.9.2', PROTO_TCP, Buffer.concat([tcp(51788, 1005, 0x02), Buffer.alloc(20, 1)]));
    assert.notEqual(decodeFrame(LINKTYPE_RAW, withChecksumField(syn, 0x9e56)), null);
    const datagram = ipv4('198.18.9.1', '198.18.9.2', PROTO_UDP, udp(52313, 1006, Buffer.from('hello\n')));
    assert.notEqual(decodeFrame(LINKTYPE_RAW, withChecksumField(datagram, 0x9e47)), null);
  });

  it('our own outgoing packets and segments the capture cut short are not judged', () => {
    const bad = withChecksumField(ipv4(US, SCANNER, PROTO_TCP, tcp(40001, 443, 0x02)), 0x1234);
    assert.notEqual(decodeFrame(LINKTYPE_LINUX_SLL2, sll2(ETH_IPV4, 4, bad)), null, 'outbound');
    const long = ipv4(SCANNER, US, PROTO_UDP, udp(1, 54321, Buffer.alloc(400, 7)));
    const cut = withChecksumField(long, 0x1234).subarray(0, 160);
    assert.notEqual(decodeFrame(LINKTYPE_RAW, cut), null, 'cut at the NFLOG snapshot length');
  });
});

/** An SCTP packet: common header, then one chunk of `type` with `body`; CRC32c filled in (or spoiled) as RFC 9260 appendix A says, written apart from the decoder's. */
function sctp(sourcePort: number, destinationPort: number, type: number, body: Buffer, spoil = false): Buffer {
  const chunk = Buffer.alloc(4 + body.length);
  chunk[0] = type;
  chunk.writeUInt16BE(4 + body.length, 2);
  body.copy(chunk, 4);
  const packet = Buffer.concat([Buffer.alloc(12), chunk]);
  packet.writeUInt16BE(sourcePort, 0);
  packet.writeUInt16BE(destinationPort, 2);
  let crc = 0xffffffff;
  for (const byte of packet) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  packet.writeUInt32LE((~crc ^ (spoil ? 1 : 0)) >>> 0, 8);
  return packet;
}

describe('SCTP (nmap -sY, -sZ)', () => {
  it('CRC32c matches the check value of its catalogue ("123456789" -> 0xe3069283)', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  it('an INIT or COOKIE ECHO with a right CRC32c decodes with its ports and first chunk type, IPv4 and IPv6', () => {
    const init = decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, 132, sctp(40001, 31337, 1, Buffer.alloc(16))));
    assert.deepEqual(init, expected({ direction: 'unknown', protocol: 'sctp', tcpFlags: 0, sctpChunk: 1 }));
    const echo = decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, 132, sctp(40001, 80, 10, Buffer.alloc(4))));
    assert.deepEqual(echo, expected({ direction: 'unknown', family: 6, source: SCANNER6, destination: US6, protocol: 'sctp', destinationPort: 80, tcpFlags: 0, sctpChunk: 10 }));
  });

  it('a wrong CRC32c (nmap --badsum) is no packet at all, and is counted', () => {
    const counters: DecodeCounters = { badSource: 0 };
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv4(SCANNER, US, 132, sctp(40001, 31337, 1, Buffer.alloc(16), true)), counters), null);
    assert.equal(decodeFrame(LINKTYPE_RAW, ipv6(SCANNER6, US6, 132, sctp(40001, 31337, 1, Buffer.alloc(16), true)), counters), null);
    assert.equal(counters.badChecksum, 2);
    // Cut short by the capture: not checkable, so it passes (the kernel's conntrack judged it).
    const whole = ipv4(SCANNER, US, 132, sctp(40001, 31337, 1, Buffer.alloc(16), true));
    assert.equal(decodeFrame(LINKTYPE_RAW, whole.subarray(0, 20 + 13))?.sctpChunk, 1);
  });
});
