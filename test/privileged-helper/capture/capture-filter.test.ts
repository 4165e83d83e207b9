import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildCaptureFilter, type CaptureWatch } from '../../../privileged-helper/capture/capture-filter.js';
import { planCapture } from '../../../privileged-helper/capture/capture-plan.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { EMBEDDED_CONFIG_NAME, EMBEDDED_CONFIG_TEXT } from '../../../privileged-helper/config/default-config.js';
import { ALL_MODES } from '../../../shared/domain/types.js';

const run = promisify(execFile);

/** Every filter this file builds, so the last tests can hand each one to libpcap. */
const built: string[] = [];
function build(watch: CaptureWatch): string {
  const filter = buildCaptureFilter(watch);
  built.push(filter);
  return filter;
}

const V4_NO_ACK = '((ip and tcp[13] & 0x14 == 0) or (ip6 and ip6[6] == 6 and ip6[53] & 0x14 == 0))';
/** Every inbound IPv6 packet with an extension header goes to the decoder (libpcap cannot walk the chain). */
const V6_EXT = '(ip6 and ((ip6[6] == 0 and ip6[40] != 58) or ip6[6] == 43 or ip6[6] == 44 or ip6[6] == 60))';
const OUT_SYN = '(ip and tcp[13] & 0x12 == 0x02) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02)';

describe('buildCaptureFilter strings', () => {
  it('a TCP port list, inbound only', () => {
    assert.equal(build({ tcp: { kind: 'list', ports: [1, 79, 31337] }, udp: null, outbound: false }), `(inbound and ((tcp dst port (1 or 79 or 31337) and ${V4_NO_ACK}) or ${V6_EXT}))`);
  });

  it('a single TCP port', () => {
    assert.equal(build({ tcp: { kind: 'list', ports: [22] }, udp: null, outbound: false }), `(inbound and ((tcp dst port (22) and ${V4_NO_ACK}) or ${V6_EXT}))`);
  });

  it('a UDP port list, inbound only', () => {
    assert.equal(build({ tcp: null, udp: { kind: 'list', ports: [161, 54321] }, outbound: false }), `(inbound and ((udp dst port (161 or 54321)) or ${V6_EXT}))`);
  });

  it('TCP and UDP lists together', () => {
    assert.equal(
      build({ tcp: { kind: 'list', ports: [79] }, udp: { kind: 'list', ports: [7, 9] }, outbound: false }),
      `(inbound and ((tcp dst port (79) and ${V4_NO_ACK}) or (udp dst port (7 or 9)) or ${V6_EXT}))`,
    );
  });

  it('"below" selectors are a port range from 1, inclusive', () => {
    assert.equal(
      build({ tcp: { kind: 'below', limit: 1024 }, udp: { kind: 'below', limit: 65535 }, outbound: false }),
      `(inbound and ((tcp dst portrange 1-1024 and ${V4_NO_ACK}) or (udp dst portrange 1-65535) or ${V6_EXT}))`,
    );
  });

  it("outbound adds this host's SYNs, and its UDP only when UDP is watched", () => {
    assert.equal(
      build({ tcp: { kind: 'below', limit: 1024 }, udp: { kind: 'below', limit: 1024 }, outbound: true }),
      `(inbound and ((tcp dst portrange 1-1024 and ${V4_NO_ACK}) or (udp dst portrange 1-1024) or ${V6_EXT})) or (outbound and (${OUT_SYN} or udp))`,
    );
    assert.equal(build({ tcp: { kind: 'list', ports: [79] }, udp: null, outbound: true }), `(inbound and ((tcp dst port (79) and ${V4_NO_ACK}) or ${V6_EXT})) or (outbound and (${OUT_SYN}))`);
    assert.equal(build({ tcp: null, udp: { kind: 'below', limit: 1024 }, outbound: true }), `(inbound and ((udp dst portrange 1-1024) or ${V6_EXT})) or (outbound and (${OUT_SYN} or udp))`);
  });

  it('an empty port list throws instead of building a filter libpcap would reject', () => {
    assert.throws(() => buildCaptureFilter({ tcp: { kind: 'list', ports: [] }, udp: null, outbound: false }), /port list to watch cannot be empty/);
    assert.throws(() => buildCaptureFilter({ tcp: { kind: 'list', ports: [79] }, udp: { kind: 'list', ports: [] }, outbound: true }), /cannot be empty/);
  });

  it('nothing to watch throws', () => {
    assert.throws(() => buildCaptureFilter({ tcp: null, udp: null, outbound: true }), /nothing to watch/);
  });

  it('the plans of the embedded config for every mode set build filters', () => {
    const config = parseConfig(EMBEDDED_CONFIG_TEXT, EMBEDDED_CONFIG_NAME);
    for (const modes of [['tcp'], ['stcp'], ['sudp'], ['atcp'], ['audp'], ['stcp', 'sudp'], ALL_MODES] as const) {
      const plan = planCapture(config, modes);
      assert.notEqual(plan, null, modes.join(','));
      const filter = build(plan!.watch);
      assert.match(filter, /^\(inbound and /);
    }
  });
});

// A pcap file of hand-built Linux cooked v2 frames, one per second, so the seconds field of
// tcpdump's output says which frames a filter let through.
type Direction = 'in' | 'out';
interface Frame {
  readonly direction: Direction;
  readonly family: 4 | 6;
  readonly protocol: 'tcp' | 'udp';
  readonly destinationPort: number;
  readonly flags: number;
  /** IPv6 only: put an 8-byte hop-by-hop options header before the transport header. */
  readonly hopByHop?: boolean;
}

function transport(frame: Frame): Buffer {
  const segment = Buffer.alloc(frame.protocol === 'tcp' ? 20 : 8);
  segment.writeUInt16BE(40000, 0);
  segment.writeUInt16BE(frame.destinationPort, 2);
  if (frame.protocol === 'tcp') {
    segment[12] = 0x50;
    segment[13] = frame.flags;
  } else segment.writeUInt16BE(8, 4);
  return segment;
}

function cookedFrame(frame: Frame): Buffer {
  const payload = transport(frame);
  const protocolNumber = frame.protocol === 'tcp' ? 6 : 17;
  let ip: Buffer;
  if (frame.family === 4) {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + payload.length, 2);
    ip[8] = 64;
    ip[9] = protocolNumber;
    Buffer.from(frame.direction === 'in' ? [198, 18, 0, 11, 198, 18, 0, 10] : [198, 18, 0, 10, 198, 18, 0, 11]).copy(ip, 12);
  } else {
    const options = frame.hopByHop === true ? Buffer.from([protocolNumber, 0, 1, 4, 0, 0, 0, 0]) : Buffer.alloc(0);
    ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(options.length + payload.length, 4);
    ip[6] = frame.hopByHop === true ? 0 : protocolNumber;
    ip[7] = 64;
    ip[8] = 0xfd;
    ip[23] = frame.direction === 'in' ? 0x0b : 0x0a;
    ip[24] = 0xfd;
    ip[39] = frame.direction === 'in' ? 0x0a : 0x0b;
    ip = Buffer.concat([ip, options]);
  }
  const link = Buffer.alloc(20);
  link.writeUInt16BE(frame.family === 4 ? 0x0800 : 0x86dd, 0);
  link.writeUInt32BE(2, 4);
  link.writeUInt16BE(1, 8);
  link[10] = frame.direction === 'in' ? 0 : 4;
  link[11] = 6;
  return Buffer.concat([link, ip, payload]);
}

function pcapFile(frames: readonly Frame[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(276, 20);
  const parts: Buffer[] = [header];
  frames.forEach((frame, index) => {
    const data = cookedFrame(frame);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(index, 0);
    record.writeUInt32LE(data.length, 8);
    record.writeUInt32LE(data.length, 12);
    parts.push(record, data);
  });
  return Buffer.concat(parts);
}

const SYN = 0x02;
const FRAMES: readonly Frame[] = [
  /* 0 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 79, flags: SYN },
  /* 1 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 79, flags: 0x12 },
  /* 2 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 79, flags: 0x04 },
  /* 3 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 79, flags: 0x01 },
  /* 4 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 31337, flags: 0x00 },
  /* 5 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 80, flags: SYN },
  /* 6 */ { direction: 'out', family: 4, protocol: 'tcp', destinationPort: 79, flags: SYN },
  /* 7 */ { direction: 'in', family: 6, protocol: 'tcp', destinationPort: 79, flags: SYN },
  /* 8 */ { direction: 'in', family: 6, protocol: 'tcp', destinationPort: 79, flags: 0x10 },
  /* 9 */ { direction: 'in', family: 4, protocol: 'udp', destinationPort: 161, flags: 0 },
  /* 10 */ { direction: 'in', family: 6, protocol: 'udp', destinationPort: 161, flags: 0 },
  /* 11 */ { direction: 'out', family: 4, protocol: 'udp', destinationPort: 53, flags: 0 },
  /* 12 */ { direction: 'out', family: 4, protocol: 'tcp', destinationPort: 40000, flags: 0x12 },
  /* 13 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 1025, flags: SYN },
  /* 14 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 1024, flags: SYN },
  /* 15 */ { direction: 'in', family: 4, protocol: 'tcp', destinationPort: 79, flags: 0xc2 },
  /* 16 */ { direction: 'out', family: 6, protocol: 'tcp', destinationPort: 443, flags: SYN },
  /* 17 */ { direction: 'in', family: 4, protocol: 'udp', destinationPort: 9999, flags: 0 },
  /* 18 */ { direction: 'in', family: 6, protocol: 'tcp', destinationPort: 79, flags: 0x29 },
];
const HOP_BY_HOP_SYN: Frame = { direction: 'in', family: 6, protocol: 'tcp', destinationPort: 79, flags: SYN, hopByHop: true };

describe('buildCaptureFilter in libpcap', () => {
  let dir = '';
  let file = '';
  let extensionFile = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capture-filter-'));
    file = join(dir, 'frames.pcap');
    await writeFile(file, pcapFile(FRAMES));
    extensionFile = join(dir, 'extension.pcap');
    await writeFile(extensionFile, pcapFile([HOP_BY_HOP_SYN]));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function matching(filter: string, path = file): Promise<number[]> {
    const { stdout } = await run('tcpdump', ['-r', path, '-n', '-tt', filter]);
    return stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => Number.parseInt(line, 10))
      .sort((a, b) => a - b);
  }

  it('a TCP list lets through inbound non-ACK non-RST TCP to the listed ports, IPv4 and IPv6', async () => {
    assert.deepEqual(await matching(build({ tcp: { kind: 'list', ports: [1, 79, 31337] }, udp: null, outbound: false })), [0, 3, 4, 7, 15, 18]);
  });

  it('a UDP list lets through inbound UDP to the listed ports only', async () => {
    assert.deepEqual(await matching(build({ tcp: null, udp: { kind: 'list', ports: [161] }, outbound: false })), [9, 10]);
  });

  it('advanced ranges with outbound: the range is inclusive, outbound SYNs and UDP are added, replies are not', async () => {
    const filter = build({ tcp: { kind: 'below', limit: 1024 }, udp: { kind: 'below', limit: 1024 }, outbound: true });
    assert.deepEqual(await matching(filter), [0, 3, 5, 6, 7, 9, 10, 11, 14, 15, 16, 18]);
  });

  it('outbound without UDP watched adds outbound SYNs only', async () => {
    assert.deepEqual(await matching(build({ tcp: { kind: 'list', ports: [79] }, udp: null, outbound: true })), [0, 3, 6, 7, 15, 16, 18]);
  });

  it('an IPv6 SYN behind a hop-by-hop header reaches the decoder', async () => {
    assert.deepEqual(await matching(build({ tcp: { kind: 'list', ports: [79] }, udp: null, outbound: false }), extensionFile), [0]);
  });

  it('tcpdump -d -i lo compiles every filter built in this file (exit code 0)', async () => {
    assert.ok(built.length >= 15, `only ${built.length} filters built`);
    for (const filter of new Set(built)) {
      const { stdout } = await run('tcpdump', ['-d', '-i', 'lo', filter]);
      assert.match(stdout, /^\(000\) /, filter);
      assert.match(stdout, /ret\s+#0/, filter);
    }
  });

  it('the same check fails for a filter libpcap rejects, so it proves something', async () => {
    await assert.rejects(run('tcpdump', ['-d', '-i', 'lo', '(inbound and ((tcp dst port () and ip)))']), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(String(error.stderr), /syntax error/);
      return true;
    });
  });
});
