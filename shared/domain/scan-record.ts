// One record per scan, beside the per-probe events (scanlogd and psad write one line per
// scan): who, from when to when, which ports and kinds, how many probes, what was done. The
// daemon folds its probes into these (privileged-helper/engine/scan-records.ts), the store
// keeps them, `scans.list` serves them, so nothing downstream has to fold probes itself.

import type { AddressFamily, Protocol, ScanKind } from './types.js';

/** What was done about the scan, the strongest so far: blocked > reported > watched (counted, below the threshold or rate-limited). */
export type ScanOutcome = 'blocked' | 'reported' | 'watched';

export interface ScanRecord {
  /** `<scanner>@<firstProbe>`: stable while the scan goes on. */
  readonly id: string;
  readonly scanner: string;
  readonly family: AddressFamily;
  readonly firstProbe: number;
  readonly lastProbe: number;
  /** Distinct ports touched per protocol, lowest first; the first MAX_RECORD_PORTS of each are kept. */
  readonly ports: { readonly tcp: number[]; readonly udp: number[] };
  readonly kinds: ScanKind[];
  readonly protocols: Protocol[];
  readonly probes: number;
  readonly outcome: ScanOutcome;
  /** Why the scan is not blocked, in the helper's words (report only, paused, a rate limit, a failed block, a LAN touch); absent when blocked or not yet decided. */
  readonly reason?: string;
}

export const MAX_RECORD_PORTS = 1024;

/** Ports as runs, lowest first ("1-1024,31337"): a record's 1024 ports in a few characters. */
export function portRuns(ports: readonly number[]): string {
  const runs: string[] = [];
  let start: number | undefined;
  let end = -1;
  for (const port of ports) {
    if (start !== undefined && port === end + 1) {
      end = port;
      continue;
    }
    if (start !== undefined) runs.push(start === end ? `${start}` : `${start}-${end}`);
    start = port;
    end = port;
  }
  if (start !== undefined) runs.push(start === end ? `${start}` : `${start}-${end}`);
  return runs.join(',');
}

/** A record's ports per protocol, "TCP 1-3,80; UDP 53" (the same words wherever a record is shown). */
export function describeRecordPorts(record: Pick<ScanRecord, 'ports'>): string {
  const parts: string[] = [];
  if (record.ports.tcp.length > 0) parts.push(`TCP ${portRuns(record.ports.tcp)}`);
  if (record.ports.udp.length > 0) parts.push(`UDP ${portRuns(record.ports.udp)}`);
  return parts.join('; ');
}
