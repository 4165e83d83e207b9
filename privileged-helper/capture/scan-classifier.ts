// What kind of scan a TCP packet is: one without ACK always, one with ACK when it belongs to
// no conversation (the kernel's conntrack says so, see classifyStrayTcp). Pure.

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

/**
 * The kind of a TCP packet that conntrack knows no connection for (ct state new or invalid,
 * nothing owns the port): then an ACK is a probe too. Null for RST (tears down, reveals
 * nothing) and SYN/ACK (a reply); kinds without ACK as classifyTcpFlags names them.
 */
export function classifyStrayTcp(flags: number): ScanKind | null {
  const f = flags & 0x3f;
  if (!(f & TCP_ACK)) return classifyTcpFlags(f);
  if (f & (TCP_RST | TCP_SYN)) return null;
  if (f === TCP_ACK) return 'ack';
  if (f === (TCP_ACK | TCP_FIN)) return 'maimon';
  return 'odd-flags';
}
