// Writes the TCP or UDP checksum into an IP packet assembled by hand, as a real sender's
// stack would (RFC 1071 over the pseudo-header and the segment), so tests of the decoder feed
// it packets this host's stack would accept. Written apart from the decoder's own check, on
// purpose: the two must agree without sharing code.

const TCP = 6;
const UDP = 17;

function onesComplementSum(parts: readonly Buffer[]): number {
  let total = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i += 2) total += (part[i]! << 8) | (i + 1 < part.length ? part[i + 1]! : 0);
  }
  while (total > 0xffff) total = (total & 0xffff) + Math.floor(total / 0x10000);
  return total;
}

/** A copy of `packet` (IPv4 or IPv6, no link header) with its TCP/UDP checksum filled in; other packets come back as they are. */
export function withTransportChecksum(packet: Buffer): Buffer {
  const copy = Buffer.from(packet);
  let protocol: number;
  let offset: number;
  let addresses: Buffer;
  if (copy[0]! >> 4 === 4) {
    offset = (copy[0]! & 0x0f) * 4;
    if ((copy.readUInt16BE(6) & 0x3fff) !== 0) return copy; // a fragment: its checksum covers the whole datagram
    protocol = copy[9]!;
    addresses = copy.subarray(12, 20);
  } else {
    protocol = copy[6]!;
    offset = 40;
    addresses = copy.subarray(8, 40);
    while ([0, 43, 60, 44].includes(protocol)) {
      if (protocol === 44) return copy;
      const next = copy[offset]!;
      offset += (copy[offset + 1]! + 1) * 8;
      protocol = next;
    }
  }
  const field = protocol === TCP ? 16 : protocol === UDP ? 6 : -1;
  const segment = copy.subarray(offset);
  if (field < 0 || segment.length < field + 2) return copy;
  segment.writeUInt16BE(0, field);
  const lengthAndProtocol = Buffer.alloc(4);
  lengthAndProtocol.writeUInt16BE(protocol, 0);
  lengthAndProtocol.writeUInt16BE(segment.length, 2);
  const sum = ~onesComplementSum([addresses, lengthAndProtocol, segment]) & 0xffff || (protocol === UDP ? 0xffff : 0);
  segment.writeUInt16BE(sum, field);
  return copy;
}
