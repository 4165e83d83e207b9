// Incremental reader of the classic pcap file format as tcpdump writes it to a pipe
// (`tcpdump -w -`): a 24-byte global header, then records of a 16-byte header and the
// captured bytes. Pure: bytes in, records out, so every malformed form is unit-testable.

export interface PcapRecord {
  /** Capture time in milliseconds since the epoch (sub-ms precision kept as a fraction). */
  readonly at: number;
  /** Length of the packet on the wire (may exceed data.length when truncated by -s). */
  readonly wireLength: number;
  readonly data: Buffer;
}

export class PcapFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PcapFormatError';
  }
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Far above any snap length we ask for: a larger record means the stream is corrupt. */
const MAX_RECORD = 262_144;

export class PcapStreamParser {
  private buffer: Buffer = Buffer.alloc(0);
  private littleEndian = true;
  private nanoseconds = false;
  private header: { linkType: number; snapLength: number } | null = null;

  /** The link-layer type from the global header (1 Ethernet, 101 raw IP, 113 SLL, 276 SLL2). */
  get linkType(): number | null {
    return this.header?.linkType ?? null;
  }

  /** The writer's byte order (NFLOG TLVs are in it too); known once the header was read. */
  get writerLittleEndian(): boolean {
    return this.littleEndian;
  }

  /** Feeds bytes; returns every record completed by them. Throws PcapFormatError on garbage. */
  push(chunk: Buffer): PcapRecord[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const records: PcapRecord[] = [];
    let offset = 0;
    if (this.header === null) {
      if (this.buffer.length < GLOBAL_HEADER) return records;
      this.readGlobalHeader(this.buffer.subarray(0, GLOBAL_HEADER));
      offset = GLOBAL_HEADER;
    }
    while (this.buffer.length - offset >= RECORD_HEADER) {
      const seconds = this.u32(offset);
      const fraction = this.u32(offset + 4);
      const capturedLength = this.u32(offset + 8);
      const wireLength = this.u32(offset + 12);
      if (capturedLength > MAX_RECORD || capturedLength > wireLength) {
        throw new PcapFormatError(`corrupt pcap record: captured ${capturedLength} bytes of a ${wireLength}-byte packet`);
      }
      if (this.buffer.length - offset - RECORD_HEADER < capturedLength) break;
      const start = offset + RECORD_HEADER;
      const at = seconds * 1000 + (this.nanoseconds ? fraction / 1e6 : fraction / 1e3);
      records.push({ at, wireLength, data: Buffer.from(this.buffer.subarray(start, start + capturedLength)) });
      offset = start + capturedLength;
    }
    this.buffer = this.buffer.subarray(offset);
    return records;
  }

  private readGlobalHeader(bytes: Buffer): void {
    const magic = bytes.readUInt32LE(0);
    switch (magic) {
      case 0xa1b2c3d4:
        this.littleEndian = true;
        break;
      case 0xa1b23c4d:
        this.littleEndian = true;
        this.nanoseconds = true;
        break;
      case 0xd4c3b2a1:
        this.littleEndian = false;
        break;
      case 0x4d3cb2a1:
        this.littleEndian = false;
        this.nanoseconds = true;
        break;
      default:
        throw new PcapFormatError(`not a pcap stream (magic 0x${magic.toString(16).padStart(8, '0')})`);
    }
    const read = (at: number) => (this.littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
    // The low 28 bits are the link type; the high bits carry FCS information we ignore.
    this.header = { snapLength: read(16), linkType: read(20) & 0x0fffffff };
  }

  private u32(at: number): number {
    return this.littleEndian ? this.buffer.readUInt32LE(at) : this.buffer.readUInt32BE(at);
  }
}
