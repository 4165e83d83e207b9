// Who a scanner is, offline, in main (never in the root helper: no database is parsed with
// privileges): the network owner (ASN and organisation) from dist/data/asn.bin, which
// scripts/build-asn-table.mjs makes from the @ip-location-db/asn CSV (RouteViews + DB-IP,
// CC-BY-4.0), and the country from the @ip-location-db/geo-whois-asn-country MMDB (CC0) read
// with mmdb-lib. Private, reserved and lab addresses are "private network", never a guess.
// Answers are cached; nothing leaves the machine.
//
// asn.bin (little-endian u32): "PSASN001", n4, n6, nAsn, stringsLength; IPv4 range starts
// [n4] and their ASN [n4] (0 = no network there); IPv6 starts as the (hi, lo) words of the
// top 64 bits [2*n6] and their ASN [n6]; the ASNs sorted [nAsn], their org offsets
// [nAsn + 1]; the org strings (UTF-8). A lookup is a binary search for the last start <= the
// address.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Reader, type Response } from 'mmdb-lib';
import { parseAddress } from '../shared/domain/address.js';
import { blockCovers } from '../shared/domain/block-target.js';

export interface NetworkOwner {
  readonly address: string;
  /** A private, reserved or lab address: nothing about it is looked up. */
  readonly private: boolean;
  /** ISO 3166 alpha-2, e.g. "US"; null when the database does not know. */
  readonly country: string | null;
  readonly asn: number | null;
  readonly org: string | null;
}

/** Ranges that are nobody's on the internet (RFC 1918, 6598, 5737, 2544, 4193, loopback, link-local, multicast...). */
const PRIVATE_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/3',
  '::/127',
  '::ffff:0:0/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001:db8::/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

export function isPrivateAddress(address: string): boolean {
  return PRIVATE_RANGES.some((range) => blockCovers(range, address));
}

/** The ASN table, loaded once (typed-array views over one file read). */
export class AsnTable {
  private readonly v4Starts: Uint32Array;
  private readonly v4Asns: Uint32Array;
  private readonly v6Starts: Uint32Array;
  private readonly v6Asns: Uint32Array;
  private readonly asns: Uint32Array;
  private readonly offsets: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly decoder = new TextDecoder();

  constructor(bytes: Uint8Array) {
    if (new TextDecoder('latin1').decode(bytes.subarray(0, 8)) !== 'PSASN001') throw new Error('not an ASN table (PSASN001)');
    // Copied to an aligned buffer so the sections can be Uint32Array views.
    const words = new Uint32Array(new Uint8Array(bytes.subarray(8, bytes.length - ((bytes.length - 8) % 4))).buffer);
    const [n4 = 0, n6 = 0, nAsn = 0] = words;
    let at = 4;
    const take = (n: number) => words.subarray(at, (at += n));
    this.v4Starts = take(n4);
    this.v4Asns = take(n4);
    this.v6Starts = take(2 * n6);
    this.v6Asns = take(n6);
    this.asns = take(nAsn);
    this.offsets = take(nAsn + 1);
    this.strings = bytes.slice(8 + at * 4); // a copy: the file buffer is not kept
  }

  /** The ASN and organisation announcing `address`, or null. */
  lookup(address: string): { asn: number; org: string } | null {
    const parsed = parseAddress(address);
    if (parsed === null) return null;
    const asn = parsed.family === 4 ? this.findV4(v4Number(parsed.address)) : this.findV6(v6Top64(parsed.address));
    if (asn === 0) return null;
    return { asn, org: this.org(asn) };
  }

  private findV4(key: number): number {
    let lo = 0;
    let hi = this.v4Starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.v4Starts[mid]! <= key) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? 0 : this.v4Asns[found]!;
  }

  private findV6([keyHi, keyLo]: readonly [number, number]): number {
    let lo = 0;
    let hi = this.v6Asns.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const sHi = this.v6Starts[2 * mid]!;
      const sLo = this.v6Starts[2 * mid + 1]!;
      if (sHi < keyHi || (sHi === keyHi && sLo <= keyLo)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? 0 : this.v6Asns[found]!;
  }

  private org(asn: number): string {
    let lo = 0;
    let hi = this.asns.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const value = this.asns[mid]!;
      if (value === asn) return this.decoder.decode(this.strings.subarray(this.offsets[mid]!, this.offsets[mid + 1]!));
      if (value < asn) lo = mid + 1;
      else hi = mid - 1;
    }
    return '';
  }
}

function v4Number(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** The top 64 bits of an IPv6 address as two u32 words. */
function v6Top64(address: string): [number, number] {
  const [head = '', tail] = address.split('::');
  const part = (text: string) => (text === '' ? [] : text.split(':').map((w) => parseInt(w, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const words = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return [(words[0]! * 0x10000 + words[1]!) >>> 0, (words[2]! * 0x10000 + words[3]!) >>> 0];
}

/** Most addresses a renderer may ask about in one call (the IPC schema enforces it). */
export const MAX_LOOKUPS_PER_CALL = 64;
const CACHE_SIZE = 4096;

/** The lookup main serves: both databases, loaded on first use, and an answer cache. */
export class NetworkOwners {
  private asn: AsnTable | null = null;
  private country: Reader<Response> | null = null;
  private readonly cache = new Map<string, NetworkOwner>();

  constructor(private readonly files: { readonly asnTable: string; readonly countryMmdb: string }) {}

  /** Where the shipped data lies: the built table beside dist/main, the MMDB in its package. */
  static shipped(): NetworkOwners {
    const require = createRequire(import.meta.url);
    return new NetworkOwners({
      asnTable: fileURLToPath(new URL('../data/asn.bin', import.meta.url)),
      countryMmdb: require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb'),
    });
  }

  lookup(addresses: readonly string[]): NetworkOwner[] {
    return addresses.slice(0, MAX_LOOKUPS_PER_CALL).map((address) => {
      const cached = this.cache.get(address);
      if (cached !== undefined) return cached;
      const answer = this.answer(address);
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(address, answer);
      return answer;
    });
  }

  private answer(address: string): NetworkOwner {
    if (isPrivateAddress(address)) return { address, private: true, country: null, asn: null, org: null };
    const asn = (this.asn ??= new AsnTable(readFileSync(this.files.asnTable)));
    const country = (this.country ??= new Reader<Response>(readFileSync(this.files.countryMmdb)));
    const network = asn.lookup(address);
    // The geo-whois-asn-country records are { country_code }, not MaxMind's nested shape.
    const code = (country.get(address) as { country_code?: unknown } | null)?.country_code;
    return { address, private: false, country: typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : null, asn: network?.asn ?? null, org: network?.org ?? null };
  }
}
