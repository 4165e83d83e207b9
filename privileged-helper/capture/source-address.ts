// Which source addresses can never be a real remote scanner, so must never become a block:
// IPv4-mapped and IPv4-compatible IPv6 (one IPv6 packet would otherwise blackhole an IPv4
// host), unspecified, loopback, multicast, link-local, and for IPv4 also 0/8, broadcast and
// 240/4. Pure; works on the raw bytes (the decoder, before any mapping) or on text.

// getBuiltinModule: node:net without an ES-module facade to build (this is on the start path
// to the first bound tripwire; the facade cost ~3 ms of CPU, measured).
const { isIPv4, isIPv6, SocketAddress } = process.getBuiltinModule('node:net');

export type SourceProblem = 'ipv4-mapped' | 'ipv4-compatible' | 'unspecified' | 'loopback' | 'multicast' | 'link-local' | 'reserved';

/** Null for an address that may be a scanner; else what it is. */
export function ipv4SourceProblem(a: number, b: number, c: number, d: number): SourceProblem | null {
  if (a === 0) return b === 0 && c === 0 && d === 0 ? 'unspecified' : 'reserved';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  // 240/4 is reserved; 255.255.255.255 (limited broadcast) lies inside it.
  if (a >= 240) return 'reserved';
  return null;
}

/** Null for an address that may be a scanner; `bytes` are the 16 bytes of the address. */
export function ipv6SourceProblem(bytes: Uint8Array): SourceProblem | null {
  if (bytes.length !== 16) return 'reserved';
  if (bytes[0] === 0xff) return 'multicast';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'link-local';
  let zeros = 0;
  while (zeros < 16 && bytes[zeros] === 0) zeros += 1;
  if (zeros === 16) return 'unspecified';
  if (zeros === 15 && bytes[15] === 1) return 'loopback';
  if (zeros >= 10 && bytes[10] === 0xff && bytes[11] === 0xff) return 'ipv4-mapped';
  // ::a.b.c.d (deprecated IPv4-compatible) and the SIIT form ::ffff:0:a.b.c.d.
  if (zeros >= 12) return 'ipv4-compatible';
  if (zeros >= 8 && bytes[8] === 0xff && bytes[9] === 0xff && bytes[10] === 0 && bytes[11] === 0) return 'ipv4-compatible';
  return null;
}

/**
 * The same check on an address as text, in any form the kernel or a user writes it
 * (`::ffff:198.18.0.77` is still IPv4-mapped here: test before parseAddress maps it).
 */
export function sourceProblem(text: string): SourceProblem | null {
  if (isIPv4(text)) {
    const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
    return ipv4SourceProblem(a, b, c, d);
  }
  if (!isIPv6(text)) return null;
  const bare = text.replace(/%.*$/, '');
  const canonical = new SocketAddress({ address: bare, family: 'ipv6' }).address;
  return ipv6SourceProblem(ipv6Bytes(canonical));
}

/**
 * The same ranges as networks, for the kernel trap's never-block sets (so the kernel does
 * not add them either). Written out by hand: parseAddress would map ::ffff:0:0 to IPv4.
 */
export const IMPOSSIBLE_SOURCE_NETWORKS: ReadonlyArray<{ readonly address: string; readonly family: 4 | 6; readonly prefix: number }> = [
  { address: '0.0.0.0', family: 4, prefix: 8 },
  { address: '127.0.0.0', family: 4, prefix: 8 },
  { address: '169.254.0.0', family: 4, prefix: 16 },
  { address: '224.0.0.0', family: 4, prefix: 3 }, // multicast, reserved 240/4 and broadcast
  { address: '::', family: 6, prefix: 96 }, // unspecified, loopback, IPv4-compatible
  { address: '::ffff:0:0', family: 6, prefix: 96 }, // IPv4-mapped
  { address: '::ffff:0:0:0', family: 6, prefix: 96 }, // SIIT IPv4-translated
  { address: 'fe80::', family: 6, prefix: 10 },
  { address: 'ff00::', family: 6, prefix: 8 },
];

/** Words for logs and events. */
export function describeSourceProblem(problem: SourceProblem): string {
  switch (problem) {
    case 'ipv4-mapped':
      return 'an IPv4-mapped IPv6 address';
    case 'ipv4-compatible':
      return 'an IPv4-compatible IPv6 address';
    case 'unspecified':
      return 'the unspecified address';
    case 'loopback':
      return 'a loopback address';
    case 'multicast':
      return 'a multicast address';
    case 'link-local':
      return 'a link-local address';
    case 'reserved':
      return 'a reserved or broadcast address';
  }
}

function ipv6Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let head = text;
  let tail = '';
  const gap = text.indexOf('::');
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const words = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(Number.parseInt(piece, 16));
    }
    return out;
  };
  const front = words(head);
  const back = words(tail);
  const all = [...front, ...new Array<number>(Math.max(0, 8 - front.length - back.length)).fill(0), ...back];
  all.forEach((word, index) => {
    bytes[index * 2] = (word >> 8) & 0xff;
    bytes[index * 2 + 1] = word & 0xff;
  });
  return bytes;
}
