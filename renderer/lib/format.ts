// Times, durations and labels as the windows show them.

import type { StoredEvent } from '../../shared/protocol/schemas.js';

type ScanEvent = Extract<StoredEvent, { type: 'scan' }>;

const pad = (n: number) => String(n).padStart(2, '0');

/** Local "YYYY-MM-DD HH:MM:SS": sortable, unambiguous, the same in every locale. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "in 5 min", "in 2 h 3 min", "in 3 days"; "now" once passed. */
export function formatRemaining(untilMs: number, nowMs: number): string {
  const seconds = Math.round((untilMs - nowMs) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h ${minutes % 60} min`;
  return `in ${Math.floor(hours / 24)} days`;
}

export const ACTION_LABELS: Readonly<Record<ScanEvent['action'], string>> = {
  blocked: 'Blocked',
  'already-blocked': 'Already blocked',
  ignored: 'Ignored (never blocked)',
  counted: 'Counted (below trigger)',
  'alert-only': 'Reported only',
  'block-failed': 'Block failed',
  'rate-limited': 'Not blocked (too many from its network)',
};

export const KIND_LABELS: Readonly<Record<ScanEvent['kind'], string>> = {
  connect: 'Connect',
  udp: 'UDP probe',
  syn: 'SYN (half-open)',
  fin: 'FIN',
  null: 'NULL',
  xmas: 'XMAS',
  'odd-flags': 'Odd TCP flags',
  ack: 'ACK (no connection)',
  maimon: 'Maimon (FIN/ACK)',
  'sctp-init': 'SCTP INIT',
  'sctp-cookie-echo': 'SCTP COOKIE-ECHO',
  'ip-protocol': 'IP protocol probe',
  'icmp-echo': 'Ping sweep (ICMP echo)',
  'icmp-timestamp': 'Ping sweep (ICMP timestamp)',
  'icmp-mask': 'Ping sweep (ICMP address mask)',
};
