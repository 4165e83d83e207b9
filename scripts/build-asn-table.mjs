#!/usr/bin/env node
// Turns the @ip-location-db/asn CSV (RouteViews + DB-IP, CC-BY-4.0; 64 MB of text, a
// devDependency) into dist/data/asn.bin, the compact sorted table main's network-owner
// lookup reads with a binary search (main/network-owner.ts; the format is described there).
// Run by `npm run build` (so the packagers ship it); skipped when the table was already made
// from the same package version. Updating the data = bumping the package; this regenerates.
// Usage: build-asn-table.mjs [dist dir]

import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const out = join(dist, 'data', 'asn.bin');
const stamp = `${out}.version`;
const require = createRequire(join(root, 'package.json'));
const pkgDir = dirname(require.resolve('@ip-location-db/asn/package.json'));
const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === version) {
  console.log(`build-asn-table: ${out} is up to date (@ip-location-db/asn ${version})`);
  process.exit(0);
}

/** "start,end,asn,org" with org possibly quoted ("" for a quote inside). */
function parseLine(line) {
  const a = line.indexOf(',');
  const b = line.indexOf(',', a + 1);
  const c = line.indexOf(',', b + 1);
  if (a < 0 || b < 0 || c < 0) return null;
  let org = line.slice(c + 1);
  if (org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
  return { start: BigInt(line.slice(0, a)), end: BigInt(line.slice(a + 1, b)), asn: Number(line.slice(b + 1, c)), org };
}

const orgs = new Map(); // asn -> org (the first one the data names)

/**
 * Reads one CSV into [start, asn] pairs over `shift`-reduced keys (IPv6 keeps its top 64
 * bits: routed prefixes are never longer than /64), with asn 0 for the gaps between ranges,
 * merging neighbours of the same ASN.
 */
async function table(file, shift) {
  const starts = [];
  const asns = [];
  let nextFree = -1n; // the first key after the last range
  for await (const line of createInterface({ input: createReadStream(join(pkgDir, file)), crlfDelay: Infinity })) {
    const row = line === '' ? null : parseLine(line);
    if (row === null || !Number.isInteger(row.asn) || row.asn <= 0 || row.asn > 0xffffffff) continue;
    if (!orgs.has(row.asn)) orgs.set(row.asn, row.org.slice(0, 200));
    const start = row.start >> shift;
    const end = row.end >> shift;
    if (end < nextFree) continue; // inside what the last range already covers (IPv6 below /64)
    const from = start < nextFree ? nextFree : start;
    if (nextFree >= 0n && from > nextFree) {
      starts.push(nextFree);
      asns.push(0);
    }
    if (asns.length === 0 || asns[asns.length - 1] !== row.asn || from !== nextFree) {
      starts.push(from);
      asns.push(row.asn);
    }
    nextFree = end + 1n;
  }
  starts.push(nextFree);
  asns.push(0);
  return { starts, asns };
}

const v4 = await table('asn-ipv4-num.csv', 0n);
const v6 = await table('asn-ipv6-num.csv', 64n);
const asnList = [...orgs.keys()].sort((x, y) => x - y);
const encoder = new TextEncoder();
const orgBytes = asnList.map((asn) => encoder.encode(orgs.get(asn)));
const stringsLength = orgBytes.reduce((n, b) => n + b.length, 0);

// Layout (little-endian u32 throughout): magic "PSASN001", n4, n6, nAsn, stringsLength;
// v4 starts[n4], v4 asns[n4]; v6 starts as (hi, lo) u32 pairs of the top 64 bits [2*n6],
// v6 asns[n6]; asns[nAsn] sorted, org offsets[nAsn + 1]; the org strings, UTF-8.
const words = 4 + 2 * v4.starts.length + 3 * v6.starts.length + 2 * asnList.length + 1;
const buffer = Buffer.alloc(8 + words * 4 + stringsLength);
buffer.write('PSASN001', 0, 'latin1');
let at = 8;
const put = (value) => {
  buffer.writeUInt32LE(value, at);
  at += 4;
};
put(v4.starts.length);
put(v6.starts.length);
put(asnList.length);
put(stringsLength);
for (const s of v4.starts) put(Number(s > 0xffffffffn ? 0xffffffffn : s));
for (const a of v4.asns) put(a);
for (const s of v6.starts) {
  const clamped = s > 0xffffffffffffffffn ? 0xffffffffffffffffn : s;
  put(Number(clamped >> 32n));
  put(Number(clamped & 0xffffffffn));
}
for (const a of v6.asns) put(a);
for (const a of asnList) put(a);
let offset = 0;
for (const b of orgBytes) {
  put(offset);
  offset += b.length;
}
put(offset);
for (const b of orgBytes) {
  buffer.set(b, at);
  at += b.length;
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, buffer);
writeFileSync(stamp, version);
console.log(`build-asn-table: ${v4.starts.length} IPv4 and ${v6.starts.length} IPv6 ranges, ${asnList.length} networks, ${buffer.length} bytes in ${out}`);
