// What kind of scan a TCP packet without ACK is. Pure.

import type { ScanKind } from '../../shared/domain/types.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

/**
 * Returns the scan kind for a TCP flag byte, or null for packets that are part of a normal
 * conversation. Anything with ACK belongs to an existing or answered connection; a bare RST
 * tears one down and reveals no port state. ECE/CWR are ignored: an ECN SYN is still a SYN.
 */
export function classifyTcpFlags(flags: number): ScanKind | null {
  const f = flags & 0x3f;
  if (f & (TCP_ACK | TCP_RST)) return null;
  if (f === 0) return 'null';
  if (f === TCP_SYN) return 'syn';
  if (f === TCP_FIN) return 'fin';
  if ((f & (TCP_FIN | TCP_PSH | TCP_URG)) === (TCP_FIN | TCP_PSH | TCP_URG) && !(f & TCP_SYN)) return 'xmas';
  return 'odd-flags';
}
