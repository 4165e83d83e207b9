import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptureDetector, CONVERSATION_TTL_MS, isGroupAddress } from '../../../privileged-helper/capture/capture-detector.js';
import { planCapture } from '../../../privileged-helper/capture/capture-plan.js';
import type { ListeningPorts } from '../../../privileged-helper/capture/listening-ports.js';
import type { DecodedPacket } from '../../../privileged-helper/capture/packet-decoder.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import type { Mode, Protocol } from '../../../shared/domain/types.js';

const CONFIG = parseConfig(
  ['TCP_PORTS="1,79,111,31337"', 'UDP_PORTS="7,161,31337"', 'ADVANCED_PORTS_TCP="1024"', 'ADVANCED_PORTS_UDP="1024"', 'ADVANCED_EXCLUDE_TCP="113,139"', 'ADVANCED_EXCLUDE_UDP="520,138,137,67"'].join(
    '\n',
  ),
  'detector.conf',
);

/** The listening set as the kernel would report it, fixed for a test. */
class Listening implements ListeningPorts {
  readonly asked: string[] = [];
  constructor(
    private readonly tcp: readonly number[] = [],
    private readonly udp: readonly number[] = [],
  ) {}
  isListening(protocol: Protocol, port: number): boolean {
    this.asked.push(`${protocol}/${port}`);
    return (protocol === 'tcp' ? this.tcp : this.udp).includes(port);
  }
}

function detector(modes: readonly Mode[], listening: ListeningPorts = new Listening(), config = CONFIG, tcpHeldByOthers: ReadonlySet<number> = new Set()): CaptureDetector {
  const plan = planCapture(config, modes, tcpHeldByOthers);
  assert.ok(plan !== null, `a plan for ${modes.join(',')}`);
  return new CaptureDetector(plan.rules, listening, (address) => OWN.has(address));
}

const US = '198.18.0.10';
/** This host's own addresses, as the daemon reads them from the interfaces. */
const OWN = new Set([US, 'fd00:5e::a']);
const SCANNER = '198.18.0.20';
const PEER = '198.19.0.5';
const OTHER = '198.19.0.6';
const AT = 1_700_000_000_000;

function tcpIn(destinationPort: number, tcpFlags = 0x02, overrides: Partial<DecodedPacket> = {}): DecodedPacket {
  return { direction: 'in', family: 4, source: SCANNER, destination: US, protocol: 'tcp', sourcePort: 40000, destinationPort, tcpFlags, ipOptions: false, ...overrides };
}

function udpIn(destinationPort: number, overrides: Partial<DecodedPacket> = {}): DecodedPacket {
  return { direction: 'in', family: 4, source: SCANNER, destination: US, protocol: 'udp', sourcePort: 40000, destinationPort, tcpFlags: 0, ipOptions: false, ...overrides };
}

/** A packet this host sent: from our local port to the peer's port. */
function out(protocol: Protocol, localPort: number, peer: string, peerPort: number, tcpFlags = protocol === 'tcp' ? 0x02 : 0): DecodedPacket {
  return {
    direction: 'out',
    family: peer.includes(':') ? 6 : 4,
    source: peer.includes(':') ? 'fd00:5e::a' : US,
    destination: peer,
    protocol,
    sourcePort: localPort,
    destinationPort: peerPort,
    tcpFlags,
    ipOptions: false,
  };
}

describe('CaptureDetector: classic -tcp', () => {
  it('a SYN to a configured port is a probe with every field', () => {
    assert.deepEqual(detector(['tcp']).inspect(tcpIn(79), AT), { source: SCANNER, family: 4, port: 79, protocol: 'tcp', kind: 'syn', mode: 'tcp', at: AT, tcpFlags: 0x02 });
  });

  it("a configured port another program holds is that program's, not a tripwire; the listening view is never asked", () => {
    const listening = new Listening([79]);
    const d = detector(['tcp'], listening, CONFIG, new Set([79]));
    assert.equal(d.inspect(tcpIn(79), AT), null);
    assert.equal(d.inspect(tcpIn(31337), AT)?.mode, 'tcp');
    assert.deepEqual(listening.asked, [], 'the ports -tcp holds are known by name, not looked up per packet');
  });

  it('ports not configured, and UDP, are not probes', () => {
    const d = detector(['tcp']);
    assert.equal(d.inspect(tcpIn(80), AT), null);
    assert.equal(d.inspect(tcpIn(0), AT), null);
    assert.equal(d.inspect(udpIn(79), AT), null);
  });
});

describe('CaptureDetector: stealth -stcp / -sudp', () => {
  it('a listening port is a real service, not a tripwire; a quiet configured port is a probe', () => {
    const listening = new Listening([111], [161]);
    const d = detector(['stcp', 'sudp'], listening);
    assert.equal(d.inspect(tcpIn(111), AT), null);
    assert.deepEqual(d.inspect(tcpIn(31337, 0x01), AT), { source: SCANNER, family: 4, port: 31337, protocol: 'tcp', kind: 'fin', mode: 'stcp', at: AT, tcpFlags: 0x01 });
    assert.equal(d.inspect(udpIn(161), AT), null);
    assert.deepEqual(d.inspect(udpIn(7), AT), { source: SCANNER, family: 4, port: 7, protocol: 'udp', kind: 'udp', mode: 'sudp', at: AT });
    assert.ok(listening.asked.includes('tcp/111') && listening.asked.includes('udp/161'));
  });

  it('listening is per protocol: a TCP listener on 31337 does not hide a UDP probe there', () => {
    const d = detector(['stcp', 'sudp'], new Listening([31337], []));
    assert.equal(d.inspect(tcpIn(31337), AT), null);
    assert.equal(d.inspect(udpIn(31337), AT)?.mode, 'sudp');
  });

  it('with -tcp as well, the -tcp rule wins on its ports; a port a service listens on is neither', () => {
    const d = detector(['tcp', 'stcp'], new Listening([79]), CONFIG, new Set([79]));
    assert.equal(d.inspect(tcpIn(79), AT), null);
    assert.equal(d.inspect(tcpIn(31337), AT)?.mode, 'tcp');
  });

  it('stealth modes recognise replies to our own conversations too (the kernel trap lets them through in every mode)', () => {
    const d = detector(['stcp']);
    assert.equal(d.inspect(out('tcp', 79, PEER, 22), AT), null);
    assert.equal(d.inspect(tcpIn(79, 0x01, { source: PEER, sourcePort: 22 }), AT + 1), null);
    // Another peer's FIN to the same port is still a probe.
    assert.equal(d.inspect(tcpIn(79, 0x01, { source: '198.18.0.99', sourcePort: 22 }), AT + 1)?.mode, 'stcp');
  });

  it('a datagram back to the port a multicast or broadcast query left from is a reply, from whoever heard it', () => {
    const d = detector(['sudp']);
    assert.equal(d.inspect(out('udp', 161, '239.255.255.250', 1900), AT), null);
    assert.equal(d.inspect(udpIn(161, { source: '198.18.0.77', sourcePort: 1900 }), AT + 1), null);
    assert.equal(d.inspect(udpIn(7, { source: '198.18.0.77', sourcePort: 1900 }), AT + 1)?.mode, 'sudp');
    // After five minutes it is a probe again.
    assert.equal(d.inspect(udpIn(161, { source: '198.18.0.77', sourcePort: 1900 }), AT + 5 * 60_000 + 1)?.mode, 'sudp');
    const v6 = detector(['sudp']);
    v6.inspect(out('udp', 161, 'ff02::c', 1900), AT);
    assert.equal(v6.inspect(udpIn(161, { source: '198.18.0.77', sourcePort: 1900 }), AT + 1), null);
    const broadcast = detector(['sudp']);
    broadcast.inspect(out('udp', 161, '255.255.255.255', 67), AT);
    assert.equal(broadcast.inspect(udpIn(161, { source: '198.18.0.77', sourcePort: 67 }), AT + 1), null);
  });

  it('isGroupAddress: IPv4 multicast and limited broadcast, IPv6 multicast', () => {
    for (const a of ['224.0.0.251', '239.255.255.250', '255.255.255.255', 'ff02::1:3']) assert.equal(isGroupAddress(a), true, a);
    for (const a of ['198.18.0.255', '223.1.1.1', '240.0.0.1', 'fd00::1']) assert.equal(isGroupAddress(a), false, a);
  });
});

describe('CaptureDetector: TCP that belongs to no conversation', () => {
  it('an ACK is a probe only when netfilter says the kernel knows no connection for it (stray) or the trap blocked for it', () => {
    const d = detector(['stcp']);
    assert.equal(d.inspect(tcpIn(31337, 0x10), AT), null, 'an ACK alone says nothing');
    assert.deepEqual(d.inspect(tcpIn(31337, 0x10), AT, false, true), { source: SCANNER, family: 4, port: 31337, protocol: 'tcp', kind: 'ack', mode: 'stcp', at: AT, tcpFlags: 0x10 });
    assert.equal(d.inspect(tcpIn(31337, 0x11), AT, false, true)?.kind, 'maimon');
    assert.equal(d.inspect(tcpIn(31337, 0x10), AT, true)?.kind, 'ack');
    assert.equal(d.inspect(tcpIn(31337, 0x12), AT, false, true), null, 'a SYN/ACK is a reply (backscatter), not a probe');
  });

  it('a late segment from a peer this host talked to in the last five minutes is not a probe; after that it is', () => {
    const d = detector(['atcp']);
    assert.equal(d.inspect(out('tcp', 40000, PEER, 443), AT), null);
    assert.equal(d.inspect(tcpIn(700, 0x11, { source: PEER, sourcePort: 443 }), AT + 1, false, true), null);
    assert.equal(d.inspect(tcpIn(700, 0x10, { source: PEER, sourcePort: 443 }), AT + CONVERSATION_TTL_MS + 1, false, true)?.kind, 'ack');
  });

  it("the reply trap: a held probe becomes one only when its RST is logged, blocked by the kernel or left to user space; a bad checksum's never does", () => {
    const d = detector(['stcp']);
    // The RST the stack sent for a FIN from SCANNER:40000 to 31337: from our port, to the scanner.
    const reset = (port: number, source = SCANNER) => out('tcp', port, source, 40000, 0x14);
    assert.equal(d.answered(reset(31337), AT, true), null, 'nothing held: no probe');
    d.hold(tcpIn(31337, 0x01));
    d.hold(tcpIn(79, 0x29));
    d.hold(tcpIn(111, 0x00, { source: OTHER }));
    assert.deepEqual(d.answered(reset(31337), AT, true), { source: SCANNER, family: 4, port: 31337, protocol: 'tcp', kind: 'fin', mode: 'stcp', at: AT, tcpFlags: 0x01, kernelBlocked: true });
    assert.equal(d.answered(reset(31337), AT, true), null, 'told once');
    // Over the per-prefix limit the kernel added nothing: user space decides, and is told the kind.
    const left = d.answered(reset(79), AT, false);
    assert.equal(left?.kind, 'xmas');
    assert.equal(left?.kernelBlocked, undefined);
    // OTHER's NULL probe drew no RST (a bad checksum): nothing is decided for it, and its hold
    // does not answer for another host.
    assert.equal(d.answered(reset(111, SCANNER), AT, true), null);
    const maimon = tcpIn(700, 0x11, { family: 6, source: 'fd00:5e::99', destination: 'fd00:5e::a' });
    const atcp = detector(['atcp']);
    atcp.hold(maimon);
    assert.equal(atcp.answered({ ...out('tcp', 700, 'fd00:5e::99', 40000, 0x04) }, AT, true)?.kind, 'maimon');
  });

  it('the classic -tcp tripwires answer their own ACKs: a stray ACK there is no probe', () => {
    const d = detector(['tcp']);
    assert.equal(d.inspect(tcpIn(31337, 0x10), AT, false, true), null);
  });
});

describe('CaptureDetector: advanced -atcp / -audp', () => {
  it('every port from 1 up to ADVANCED_PORTS_* inclusive, minus the excluded ones', () => {
    const d = detector(['atcp', 'audp']);
    for (const port of [1, 22, 80, 112, 114, 1024]) assert.equal(d.inspect(tcpIn(port), AT)?.mode, 'atcp', `tcp ${port}`);
    for (const port of [0, 113, 139, 1025, 31337, 65535]) assert.equal(d.inspect(tcpIn(port), AT), null, `tcp ${port}`);
    for (const port of [1, 53, 123, 136, 1024]) assert.equal(d.inspect(udpIn(port), AT)?.mode, 'audp', `udp ${port}`);
    for (const port of [0, 67, 137, 138, 520, 1025]) assert.equal(d.inspect(udpIn(port), AT), null, `udp ${port}`);
  });

  it('listening ports are skipped', () => {
    const d = detector(['atcp', 'audp'], new Listening([22, 80], [53]));
    assert.equal(d.inspect(tcpIn(22), AT), null);
    assert.equal(d.inspect(tcpIn(80), AT), null);
    assert.equal(d.inspect(tcpIn(81), AT)?.mode, 'atcp');
    assert.equal(d.inspect(udpIn(53), AT), null);
    assert.equal(d.inspect(udpIn(54), AT)?.mode, 'audp');
  });

  it('the reply to our own datagram (same peer, same local port) is not a probe; the same from another host is', () => {
    const d = detector(['audp']);
    // NTP: local port 123 to the peer's 123, an answer comes back to 123.
    assert.equal(d.inspect(out('udp', 123, PEER, 123), AT), null);
    assert.equal(d.inspect(udpIn(123, { source: PEER, sourcePort: 123 }), AT + 20), null);
    assert.deepEqual(d.inspect(udpIn(123, { source: OTHER, sourcePort: 123 }), AT + 20), { source: OTHER, family: 4, port: 123, protocol: 'udp', kind: 'udp', mode: 'audp', at: AT + 20 });
    // The same peer to another low port of ours did not answer anything.
    assert.equal(d.inspect(udpIn(124, { source: PEER }), AT + 20)?.mode, 'audp');
  });

  it('the reply to our own TCP SYN from a low local port is not a probe; the same from another host is', () => {
    const d = detector(['atcp']);
    // rlogin-style client on a privileged local port.
    assert.equal(d.inspect(out('tcp', 700, PEER, 513), AT), null);
    assert.equal(d.inspect(tcpIn(700, 0x01, { source: PEER, sourcePort: 513 }), AT + 5), null);
    assert.equal(d.inspect(tcpIn(700, 0x01, { source: OTHER, sourcePort: 513 }), AT + 5)?.kind, 'fin');
  });

  it('a data channel from the peer to a port >= 1024 is not a probe; to a low port, or from another host, it is', () => {
    const wide = parseConfig('ADVANCED_PORTS_TCP="65535"\nADVANCED_EXCLUDE_TCP="113"', 'wide.conf');
    const d = detector(['atcp'], new Listening(), wide);
    // Active FTP: we connect to the peer's port 21, it connects back from 20 to a high port of ours.
    assert.equal(d.inspect(out('tcp', 40000, PEER, 21), AT), null);
    assert.equal(d.inspect(tcpIn(45000, 0x02, { source: PEER, sourcePort: 20 }), AT + 100), null);
    assert.equal(d.inspect(tcpIn(1024, 0x02, { source: PEER, sourcePort: 20 }), AT + 100), null);
    assert.equal(d.inspect(tcpIn(1023, 0x02, { source: PEER, sourcePort: 20 }), AT + 100)?.mode, 'atcp');
    assert.equal(d.inspect(tcpIn(45000, 0x02, { source: OTHER, sourcePort: 20 }), AT + 100)?.mode, 'atcp');
  });

  it('a conversation is protocol-specific for the reply and protocol-blind for the peer', () => {
    const wide = parseConfig('ADVANCED_PORTS_TCP="65535"', 'wide.conf');
    const d = detector(['atcp'], new Listening(), wide);
    assert.equal(d.inspect(out('udp', 700, PEER, 53), AT), null);
    // TCP to the low port our UDP left from: not the same flow.
    assert.equal(d.inspect(tcpIn(700, 0x02, { source: PEER }), AT + 1)?.mode, 'atcp');
    // TCP from that peer to a high port: the peer is one we talk to.
    assert.equal(d.inspect(tcpIn(5000, 0x02, { source: PEER }), AT + 1), null);
  });

  it('a conversation is remembered for CONVERSATION_TTL_MS, inclusive, and renewed by new traffic', () => {
    const d = detector(['audp']);
    d.inspect(out('udp', 123, PEER, 123), AT);
    assert.equal(d.inspect(udpIn(123, { source: PEER }), AT + CONVERSATION_TTL_MS), null);
    assert.equal(d.inspect(udpIn(123, { source: PEER }), AT + CONVERSATION_TTL_MS + 1)?.mode, 'audp');
    d.inspect(out('udp', 123, PEER, 123), AT + CONVERSATION_TTL_MS + 2);
    assert.equal(d.inspect(udpIn(123, { source: PEER }), AT + 2 * CONVERSATION_TTL_MS + 2), null);
  });

  it('IPv6: probes keep the family and address; conversations work on IPv6 peers', () => {
    const d = detector(['atcp', 'audp']);
    const scanner6 = 'fd00:5e::14';
    assert.deepEqual(d.inspect(tcpIn(22, 0x29, { family: 6, source: scanner6, destination: 'fd00:5e::a' }), AT), {
      source: scanner6,
      family: 6,
      port: 22,
      protocol: 'tcp',
      kind: 'xmas',
      mode: 'atcp',
      at: AT,
      tcpFlags: 0x29,
    });
    const peer6 = 'fd00:5e::99';
    assert.equal(d.inspect(out('udp', 500, peer6, 500), AT), null);
    assert.equal(d.inspect(udpIn(500, { family: 6, source: peer6, destination: 'fd00:5e::a' }), AT + 1), null);
    assert.equal(d.inspect(udpIn(500, { family: 6, source: 'fd00:5e::98', destination: 'fd00:5e::a' }), AT + 1)?.family, 6);
  });
});

describe('CaptureDetector: kinds and packet details', () => {
  it('the flag byte decides the kind and is recorded raw', () => {
    const d = detector(['stcp']);
    const cases: [number, string | null][] = [
      [0x02, 'syn'],
      [0xc2, 'syn'],
      [0x01, 'fin'],
      [0x00, 'null'],
      [0x29, 'xmas'],
      [0x03, 'odd-flags'],
      [0x10, null],
      [0x12, null],
      [0x04, null],
      [0x14, null],
    ];
    for (const [flags, kind] of cases) {
      const found = d.inspect(tcpIn(31337, flags), AT);
      assert.equal(found?.kind ?? null, kind, `flags 0x${flags.toString(16)}`);
      if (found !== null) assert.equal(found.tcpFlags, flags);
    }
  });

  it('IPv4 options are recorded only when present; UDP probes carry no tcpFlags', () => {
    const d = detector(['stcp', 'sudp']);
    assert.equal(d.inspect(tcpIn(79, 0x02, { ipOptions: true }), AT)?.ipOptions, true);
    assert.equal('ipOptions' in (d.inspect(tcpIn(79), AT) ?? {}), false);
    const udpProbe = d.inspect(udpIn(7, { ipOptions: true }), AT);
    assert.equal(udpProbe?.ipOptions, true);
    assert.equal('tcpFlags' in (udpProbe ?? {}), false);
  });

  it('a packet of unknown direction counts as inbound; an outbound one never is a probe', () => {
    const d = detector(['stcp']);
    assert.equal(d.inspect(tcpIn(79, 0x02, { direction: 'unknown' }), AT)?.kind, 'syn');
    assert.equal(d.inspect(tcpIn(79, 0x02, { direction: 'out' }), AT), null);
  });

  it('at is the clock value given, not the packet time', () => {
    const d = detector(['stcp']);
    assert.equal(d.inspect(tcpIn(79), 42)?.at, 42);
  });
});

describe('CaptureDetector: only packets to this host count (routers, Docker, libvirt)', () => {
  const CLIENT = '198.18.1.2';
  const SERVER = '198.18.2.2';
  for (const modes of [['tcp'], ['stcp', 'sudp'], ['atcp', 'audp']] as const) {
    it(`${modes.join(' ')}: a packet only passing through (to another host) is never a probe`, () => {
      const d = detector(modes);
      assert.equal(d.inspect(tcpIn(79, 0x02, { source: CLIENT, destination: SERVER }), AT), null);
      assert.equal(d.inspect(tcpIn(31337, 0x01, { source: CLIENT, destination: SERVER }), AT), null);
      assert.equal(d.inspect(udpIn(7, { source: CLIENT, destination: SERVER }), AT), null);
      assert.equal(d.inspect(tcpIn(79, 0x02, { family: 6, source: 'fd00:1::2', destination: 'fd00:2::2' }), AT), null);
      assert.equal(d.addressedToUs(tcpIn(79, 0x10, { source: CLIENT, destination: SERVER })), false);
      // The same packet to one of our own addresses is a probe.
      assert.ok(d.inspect(tcpIn(79, 0x02, { source: CLIENT }), AT) !== null);
      assert.equal(d.addressedToUs(tcpIn(79, 0x10, { source: CLIENT })), true);
    });
  }

  it('a forwarded outgoing SYN is not remembered as one of our conversations', () => {
    const d = detector(['atcp']);
    // The router forwards the client's SYN to the server; later the server "answers" us.
    assert.equal(d.inspect({ ...out('tcp', 40000, SERVER, 80), source: CLIENT }, AT), null);
    assert.equal(d.inspect(tcpIn(1024, 0x02, { source: SERVER, sourcePort: 80 }), AT + 1)?.mode, 'atcp', 'not taken for a reply to our own conversation');
  });
});

describe('SCTP and IP protocol probes', () => {
  const AT2 = 1_000_000;
  const sctpIn = (port: number, chunk: number): DecodedPacket => ({
    direction: 'in',
    family: 4,
    source: SCANNER,
    destination: US,
    protocol: 'sctp',
    sourcePort: 40000,
    destinationPort: port,
    tcpFlags: 0,
    sctpChunk: chunk,
    ipOptions: false,
  });
  const ipIn = (protocol: number): DecodedPacket => ({
    direction: 'in',
    family: 4,
    source: SCANNER,
    destination: US,
    protocol: 'ip',
    sourcePort: 0,
    destinationPort: 0,
    tcpFlags: 0,
    ipProtocol: protocol,
    ipOptions: false,
  });

  it('SCTP INIT and COOKIE ECHO to a port the TCP stealth mode watches are probes of the TCP mode, with their kind', () => {
    const d = detector(['stcp']);
    assert.deepEqual(d.inspect(sctpIn(31337, 1), AT2), { source: SCANNER, family: 4, port: 31337, protocol: 'tcp', kind: 'sctp-init', mode: 'stcp', at: AT2 });
    assert.equal(d.inspect(sctpIn(31337, 10), AT2, true)?.kind, 'sctp-cookie-echo');
    assert.equal(d.inspect(sctpIn(31337, 10), AT2, true)?.kernelBlocked, true);
    // Not watched, or a chunk that opens nothing (DATA, ABORT, HEARTBEAT).
    assert.equal(d.inspect(sctpIn(8080, 1), AT2), null);
    for (const chunk of [0, 4, 6]) assert.equal(d.inspect(sctpIn(31337, chunk), AT2), null);
  });

  it('a packet of an IP protocol nothing here uses is an "ip-protocol" probe named by its number; known ones are not', () => {
    const d = detector(['atcp', 'audp']);
    assert.deepEqual(d.inspect(ipIn(99), AT2), { source: SCANNER, family: 4, port: 99, protocol: 'tcp', kind: 'ip-protocol', mode: 'atcp', at: AT2 });
    for (const known of [1, 2, 4, 41, 47, 50, 51, 58, 89, 112, 132]) assert.equal(d.inspect(ipIn(known), AT2), null, `protocol ${known}`);
  });

  it('IP_PROTOCOLS_IN_USE: protocols root says this host uses are never probes', () => {
    const config = parseConfig('TCP_PORTS="31337"\nIP_PROTOCOLS_IN_USE="99, 253"', 'in-use.conf');
    const plan = planCapture(config, ['stcp']);
    assert.deepEqual(plan?.watch.ipProtocolsInUse, [99, 253]);
    const d = new CaptureDetector(plan!.rules, new Listening(), (address) => OWN.has(address), plan!.watch.ipProtocolsInUse);
    assert.equal(d.inspect(ipIn(99), AT2), null);
    assert.equal(d.inspect(ipIn(253), AT2), null);
    assert.equal(d.inspect(ipIn(100), AT2)?.kind, 'ip-protocol');
    assert.throws(() => parseConfig('IP_PROTOCOLS_IN_USE="256"', 'bad.conf'), /IP protocol numbers/);
  });

  it('neither is watched by the UDP modes or the classic -tcp tripwires alone', () => {
    for (const modes of [['sudp'], ['tcp'], ['audp']] as const) {
      const d = detector(modes);
      assert.equal(d.inspect(sctpIn(31337, 1), AT2), null, modes.join());
      assert.equal(d.inspect(ipIn(99), AT2), null, modes.join());
    }
  });
});
