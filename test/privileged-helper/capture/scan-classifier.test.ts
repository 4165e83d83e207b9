import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyStrayTcp, classifyTcpFlags, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../../../privileged-helper/capture/scan-classifier.js';
import type { ScanKind } from '../../../shared/domain/types.js';

// The expectation is written from the TCP header's bit layout (RFC 9293 / RFC 3168), not
// from the module's constants: FIN 0, SYN 1, RST 2, PSH 3, ACK 4, URG 5, ECE 6, CWR 7.
function bit(flags: number, position: number): boolean {
  return ((flags >> position) & 1) === 1;
}

function expectedKind(flags: number): ScanKind | null {
  const fin = bit(flags, 0);
  const syn = bit(flags, 1);
  const rst = bit(flags, 2);
  const psh = bit(flags, 3);
  const ack = bit(flags, 4);
  const urg = bit(flags, 5);
  // Part of a connection (ACK) or a teardown (RST): not a probe.
  if (ack || rst) return null;
  // ECE (bit 6) and CWR (bit 7) play no part below.
  if (!fin && !syn && !psh && !urg) return 'null';
  if (syn && !fin && !psh && !urg) return 'syn';
  if (fin && !syn && !psh && !urg) return 'fin';
  if (fin && psh && urg && !syn) return 'xmas';
  return 'odd-flags';
}

describe('classifyTcpFlags', () => {
  it('the flag constants are the TCP header bits', () => {
    assert.deepEqual([TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG], [1, 2, 4, 8, 16, 32]);
  });

  it('gives the expected kind for every one of the 256 flag bytes', () => {
    for (let flags = 0; flags < 256; flags += 1) {
      assert.equal(classifyTcpFlags(flags), expectedKind(flags), `flags 0x${flags.toString(16).padStart(2, '0')}`);
    }
  });

  it('counts per kind over all 256 bytes', () => {
    const counts = new Map<string, number>();
    for (let flags = 0; flags < 256; flags += 1) {
      const kind = classifyTcpFlags(flags) ?? '(not a probe)';
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    // Without ACK and RST, 6 free bits give 64 bytes; each of the 16 FIN/SYN/PSH/URG
    // combinations appears 4 times (the ECE/CWR combinations).
    assert.deepEqual(Object.fromEntries([...counts].sort()), { '(not a probe)': 192, fin: 4, null: 4, 'odd-flags': 48, syn: 4, xmas: 4 });
  });

  it('named probes: what nmap and hping send', () => {
    const named: [string, number, ScanKind | null][] = [
      ['SYN scan (-sS)', 0x02, 'syn'],
      ['ECN SYN (SYN+ECE+CWR)', 0xc2, 'syn'],
      ['FIN scan (-sF)', 0x01, 'fin'],
      ['NULL scan (-sN)', 0x00, 'null'],
      ['XMAS scan (-sX)', 0x29, 'xmas'],
      ['XMAS with ECE and CWR', 0xe9, 'xmas'],
      ['SYN+FIN', 0x03, 'odd-flags'],
      ['all but ACK and RST', 0x2b, 'odd-flags'],
      ['PSH alone', 0x08, 'odd-flags'],
      ['URG alone', 0x20, 'odd-flags'],
      ['FIN+PSH', 0x09, 'odd-flags'],
      ['FIN+URG', 0x21, 'odd-flags'],
      ['ECE alone: still a NULL scan', 0x40, 'null'],
      ['ACK scan (-sA)', 0x10, null],
      ['Maimon scan (-sM, FIN+ACK)', 0x11, null],
      ['SYN+ACK reply', 0x12, null],
      ['RST', 0x04, null],
      ['RST+ACK', 0x14, null],
      ['SYN+RST', 0x06, null],
      ['every flag', 0xff, null],
    ];
    for (const [name, flags, kind] of named) assert.equal(classifyTcpFlags(flags), kind, name);
  });

  it('ECE and CWR never change the kind', () => {
    for (let flags = 0; flags < 64; flags += 1) {
      const base = classifyTcpFlags(flags);
      for (const ecn of [0x40, 0x80, 0xc0]) assert.equal(classifyTcpFlags(flags | ecn), base, `0x${(flags | ecn).toString(16)}`);
    }
  });

  it('TCP the kernel knows no conversation for: a lone ACK (nmap -sA, -sW) and FIN/ACK (nmap -sM) are probes, a reply or a reset is not', () => {
    const named: Array<[string, number, ScanKind | null]> = [
      ['ACK scan (-sA, -sW, hping3 -A)', 0x10, 'ack'],
      ['ACK with ECE and CWR', 0xd0, 'ack'],
      ['Maimon scan (-sM, FIN+ACK)', 0x11, 'maimon'],
      ['ACK+PSH', 0x18, 'odd-flags'],
      ['FIN+PSH+URG+ACK', 0x39, 'odd-flags'],
      ['SYN+ACK (a reply, backscatter)', 0x12, null],
      ['RST+ACK', 0x14, null],
      ['RST', 0x04, null],
      ['FIN without ACK: as before', 0x01, 'fin'],
      ['SYN without ACK: as before', 0x02, 'syn'],
    ];
    for (const [name, flags, kind] of named) assert.equal(classifyStrayTcp(flags), kind, name);
  });
});
