import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PcapFormatError, PcapStreamParser, type PcapRecord } from '../../../privileged-helper/capture/pcap-stream.js';

// The four ways a pcap writer may lay out its file: byte order of the writing host, and
// microsecond or nanosecond timestamps. The magic is always written in the host order.
interface Layout {
  readonly name: string;
  readonly littleEndian: boolean;
  readonly nanoseconds: boolean;
}

const LAYOUTS: readonly Layout[] = [
  { name: 'little-endian, microseconds', littleEndian: true, nanoseconds: false },
  { name: 'little-endian, nanoseconds', littleEndian: true, nanoseconds: true },
  { name: 'big-endian, microseconds', littleEndian: false, nanoseconds: false },
  { name: 'big-endian, nanoseconds', littleEndian: false, nanoseconds: true },
];

function u32(layout: Layout, value: number): Buffer {
  const bytes = Buffer.alloc(4);
  if (layout.littleEndian) bytes.writeUInt32LE(value);
  else bytes.writeUInt32BE(value);
  return bytes;
}

function u16(layout: Layout, value: number): Buffer {
  const bytes = Buffer.alloc(2);
  if (layout.littleEndian) bytes.writeUInt16LE(value);
  else bytes.writeUInt16BE(value);
  return bytes;
}

function globalHeader(layout: Layout, linkType: number, snapLength = 160): Buffer {
  const magic = layout.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4;
  return Buffer.concat([u32(layout, magic), u16(layout, 2), u16(layout, 4), u32(layout, 0), u32(layout, 0), u32(layout, snapLength), u32(layout, linkType)]);
}

/** `subsecond` is in the layout's unit (micro- or nanoseconds). */
function record(layout: Layout, seconds: number, subsecond: number, data: Buffer, wireLength = data.length): Buffer {
  return Buffer.concat([u32(layout, seconds), u32(layout, subsecond), u32(layout, data.length), u32(layout, wireLength), data]);
}

function bytes(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff));
}

/** A stream of three records whose expected decoding is written out independently. */
function sampleStream(layout: Layout): { stream: Buffer; expected: { at: number; wireLength: number; data: Buffer }[] } {
  // 1.5 ms past the second and exactly 250 ms past it: both exact in a double.
  const sub1 = layout.nanoseconds ? 1_500_000 : 1_500;
  const sub2 = layout.nanoseconds ? 250_000_000 : 250_000;
  const first = bytes(60, 1);
  const second = bytes(160, 2);
  const third = Buffer.alloc(0);
  const stream = Buffer.concat([globalHeader(layout, 276), record(layout, 1_700_000_000, sub1, first), record(layout, 1_700_000_001, sub2, second, 1514), record(layout, 1_700_000_002, 0, third, 0)]);
  return {
    stream,
    expected: [
      { at: 1_700_000_000_001.5, wireLength: 60, data: first },
      { at: 1_700_000_001_250, wireLength: 1514, data: second },
      { at: 1_700_000_002_000, wireLength: 0, data: third },
    ],
  };
}

function plain(records: readonly PcapRecord[]): { at: number; wireLength: number; data: Buffer }[] {
  return records.map((r) => ({ at: r.at, wireLength: r.wireLength, data: Buffer.from(r.data) }));
}

/** Deterministic pseudo-random numbers, so a failing split can be reproduced. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('PcapStreamParser global header', () => {
  for (const layout of LAYOUTS) {
    it(`reads a ${layout.name} stream: link type, timestamps, lengths, data`, () => {
      const parser = new PcapStreamParser();
      const { stream, expected } = sampleStream(layout);
      const records = parser.push(stream);
      assert.equal(parser.linkType, 276);
      assert.deepEqual(plain(records), expected);
    });
  }

  it('has no link type until the whole 24-byte header is in, then keeps it', () => {
    const layout = LAYOUTS[0]!;
    const header = globalHeader(layout, 113);
    const parser = new PcapStreamParser();
    assert.deepEqual(parser.push(header.subarray(0, 23)), []);
    assert.equal(parser.linkType, null);
    assert.deepEqual(parser.push(header.subarray(23)), []);
    assert.equal(parser.linkType, 113);
    parser.push(record(layout, 1, 0, bytes(4, 9)));
    assert.equal(parser.linkType, 113);
  });

  it('reads the link type in the header byte order and drops the FCS bits above bit 28', () => {
    for (const layout of LAYOUTS) {
      for (const [field, linkType] of [
        [1, 1],
        [101, 101],
        [113, 113],
        [276, 276],
        [0x1000_0001, 1],
        [0xf000_0071, 113],
      ] as const) {
        const parser = new PcapStreamParser();
        parser.push(globalHeader(layout, field));
        assert.equal(parser.linkType, linkType, `${layout.name}, field 0x${field.toString(16)}`);
      }
    }
  });

  it('rejects a stream that is not pcap with PcapFormatError naming the magic', () => {
    const cases: [string, Buffer][] = [
      ['pcapng', Buffer.concat([Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]), Buffer.alloc(20)])],
      ['text', Buffer.from('tcpdump: listening on any, link-type')],
      ['zeros', Buffer.alloc(24)],
      // A magic with one byte off.
      ['near miss', Buffer.concat([Buffer.from([0xd4, 0xc3, 0xb2, 0xa0]), Buffer.alloc(20)])],
    ];
    for (const [name, garbage] of cases) {
      const parser = new PcapStreamParser();
      assert.throws(
        () => parser.push(garbage),
        (error: unknown) => {
          assert.ok(error instanceof PcapFormatError, name);
          assert.equal(error.name, 'PcapFormatError');
          assert.match(error.message, new RegExp(`not a pcap stream \\(magic 0x${garbage.readUInt32LE(0).toString(16).padStart(8, '0')}\\)`));
          return true;
        },
      );
      assert.equal(parser.linkType, null);
    }
  });

  it('does not judge the magic before 24 bytes are in', () => {
    const parser = new PcapStreamParser();
    assert.deepEqual(parser.push(Buffer.from('not pcap at all')), []);
    assert.throws(() => parser.push(Buffer.from(' -- still not pcap')), PcapFormatError);
  });
});

describe('PcapStreamParser records across chunk boundaries', () => {
  for (const layout of LAYOUTS) {
    it(`${layout.name}: fed one byte at a time gives every record once, when its last byte arrives`, () => {
      const { stream, expected } = sampleStream(layout);
      const parser = new PcapStreamParser();
      const got: PcapRecord[] = [];
      // Byte offsets at which each record is complete.
      const completeAt = [24 + 16 + 60, 24 + 16 + 60 + 16 + 160, 24 + 16 + 60 + 16 + 160 + 16];
      for (let i = 0; i < stream.length; i += 1) {
        const out = parser.push(stream.subarray(i, i + 1));
        const ends = completeAt.filter((end) => end === i + 1).length;
        assert.equal(out.length, ends, `after byte ${i + 1}`);
        got.push(...out);
      }
      assert.deepEqual(plain(got), expected);
    });
  }

  it('every two-way split of the stream gives the same records', () => {
    const layout = LAYOUTS[2]!;
    const { stream, expected } = sampleStream(layout);
    for (let split = 0; split <= stream.length; split += 1) {
      const parser = new PcapStreamParser();
      const got = [...parser.push(stream.subarray(0, split)), ...parser.push(stream.subarray(split))];
      assert.deepEqual(plain(got), expected, `split at ${split}`);
    }
  });

  it('random multi-way splits (including empty chunks) give the same records', () => {
    const random = prng(42);
    for (const layout of LAYOUTS) {
      const { stream, expected } = sampleStream(layout);
      for (let round = 0; round < 200; round += 1) {
        const parser = new PcapStreamParser();
        const got: PcapRecord[] = [];
        let at = 0;
        while (at < stream.length) {
          const size = Math.floor(random() * 40);
          got.push(...parser.push(stream.subarray(at, at + size)));
          at += size;
        }
        assert.deepEqual(plain(got), expected, `${layout.name}, round ${round}`);
      }
    }
  });

  it('many records in one chunk all come out, in order', () => {
    const layout = LAYOUTS[1]!;
    const parts = [globalHeader(layout, 1)];
    for (let i = 0; i < 500; i += 1) parts.push(record(layout, i, i * 1000, bytes(i % 97, i)));
    const records = new PcapStreamParser().push(Buffer.concat(parts));
    assert.equal(records.length, 500);
    records.forEach((r, i) => {
      assert.equal(r.at, i * 1000 + i / 1000);
      assert.deepEqual(Buffer.from(r.data), bytes(i % 97, i));
    });
  });

  it('a truncated record waits for the rest instead of returning a short one', () => {
    const layout = LAYOUTS[0]!;
    const data = bytes(100, 5);
    const whole = record(layout, 7, 0, data);
    const parser = new PcapStreamParser();
    parser.push(globalHeader(layout, 101));
    // Only the record header, then all but the last byte.
    assert.deepEqual(parser.push(whole.subarray(0, 16)), []);
    assert.deepEqual(parser.push(whole.subarray(16, whole.length - 1)), []);
    const done = parser.push(whole.subarray(whole.length - 1));
    assert.equal(done.length, 1);
    assert.deepEqual(Buffer.from(done[0]!.data), data);
    assert.equal(done[0]!.at, 7000);
  });

  it('record data is a copy: reusing the chunk buffer does not change a returned record', () => {
    const layout = LAYOUTS[0]!;
    const chunk = Buffer.concat([globalHeader(layout, 1), record(layout, 1, 0, Buffer.from('abcd'))]);
    const [only] = new PcapStreamParser().push(chunk);
    chunk.fill(0);
    assert.equal(only!.data.toString(), 'abcd');
  });
});

describe('PcapStreamParser corrupt records', () => {
  it('throws PcapFormatError when the captured length exceeds the wire length', () => {
    for (const layout of LAYOUTS) {
      const parser = new PcapStreamParser();
      parser.push(globalHeader(layout, 276));
      // Only the record header is needed to know it is corrupt.
      const header = record(layout, 1, 0, bytes(100, 1), 99).subarray(0, 16);
      assert.throws(
        () => parser.push(header),
        (error: unknown) => error instanceof PcapFormatError && /captured 100 bytes of a 99-byte packet/.test(error.message),
      );
    }
  });

  it('throws PcapFormatError for an absurd record length (misread byte order, garbage)', () => {
    const layout = LAYOUTS[0]!;
    const parser = new PcapStreamParser();
    parser.push(globalHeader(layout, 276));
    const header = Buffer.concat([u32(layout, 1), u32(layout, 0), u32(layout, 262_145), u32(layout, 262_145)]);
    assert.throws(() => parser.push(header), PcapFormatError);

    // The limit itself is still a valid record.
    const ok = new PcapStreamParser();
    ok.push(globalHeader(layout, 276));
    const records = ok.push(record(layout, 1, 0, Buffer.alloc(262_144, 1)));
    assert.equal(records.length, 1);
    assert.equal(records[0]!.data.length, 262_144);
  });

  it('a little-endian record read as big-endian is caught, not returned as a huge record', () => {
    const le = LAYOUTS[0]!;
    const be = LAYOUTS[2]!;
    const parser = new PcapStreamParser();
    parser.push(globalHeader(be, 276));
    // captured 60 = 0x3c000000 when read the wrong way round.
    assert.throws(() => parser.push(record(le, 1, 0, bytes(60, 1))), PcapFormatError);
  });

  it('records returned before a corrupt record arrives stay returned; the corrupt one throws', () => {
    const layout = LAYOUTS[0]!;
    const parser = new PcapStreamParser();
    const good = parser.push(Buffer.concat([globalHeader(layout, 276), record(layout, 1, 0, bytes(10, 1))]));
    assert.equal(good.length, 1);
    assert.throws(() => parser.push(Buffer.concat([u32(layout, 2), u32(layout, 0), u32(layout, 50), u32(layout, 10)])), PcapFormatError);
  });
});
