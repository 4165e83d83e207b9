// Folds the probes the daemon handled into one record per scan (shared/domain/scan-record.ts).
// A scan is one source's probes with no gap longer than SCAN_GAP_MS between them; a probe
// after a longer quiet starts a new record. Records that changed are handed out once
// (takeChanged) for the store to write, so a fast scan costs one write a tick, not one a probe.
// Pure: the clock arrives with each probe; memory is bounded (least recently active first out).

import { MAX_RECORD_PORTS, type ScanOutcome, type ScanRecord } from '../../shared/domain/scan-record.js';
import type { DiscoveryKind, Probe, Protocol, ScanKind } from '../../shared/domain/types.js';

/** Quiet after which a source's next probe is a new scan. */
export const SCAN_GAP_MS = 5 * 60_000;

interface OpenScan {
  id: string;
  first: number;
  last: number;
  tcp: Set<number>;
  udp: Set<number>;
  kinds: Set<ScanKind>;
  probes: number;
  outcome: ScanOutcome;
  family: Probe['family'];
  /** The one summary line (SCAN_SUMMARY_LOG) was handed out. */
  summarized: boolean;
  /** Why it is not blocked, the latest word (cleared once blocked). */
  reason: string | undefined;
}

const STRENGTH: Record<ScanOutcome, number> = { watched: 0, reported: 1, blocked: 2 };

export class ScanRecords {
  private readonly open = new Map<string, OpenScan>();
  private readonly changed = new Set<string>();
  private started = 0;

  constructor(private readonly maxSources: number) {}

  /** One handled probe of `source` (the scope the engine judged), what was done about it, and why not blocked (if said). */
  note(source: string, probe: Probe, outcome: ScanOutcome, reason?: string): void {
    const scan = this.touch(source, probe);
    const ports = probe.protocol === 'tcp' ? scan.tcp : scan.udp;
    // Bounded: a record names at most MAX_RECORD_PORTS ports per protocol.
    if (ports.size < MAX_RECORD_PORTS) ports.add(probe.port);
    this.count(source, scan, probe.kind, outcome, reason);
  }

  /** A host discovery request (engine/host-discovery.ts): a kind and a probe of the same scan, no port. */
  noteDiscovery(source: string, discovery: Pick<Probe, 'at' | 'family'> & { readonly kind: DiscoveryKind }, outcome: ScanOutcome, reason?: string): void {
    this.count(source, this.touch(source, discovery), discovery.kind, outcome, reason);
  }

  /** The open scan of `source`, a new one after a quiet longer than SCAN_GAP_MS; taken out of the map until count() puts it back. */
  private touch(source: string, probe: Pick<Probe, 'at' | 'family'>): OpenScan {
    let scan = this.open.get(source);
    if (scan !== undefined) this.open.delete(source); // re-inserted: least recently active first
    if (scan === undefined || probe.at - scan.last > SCAN_GAP_MS) {
      scan = {
        id: `${source}@${probe.at}`,
        first: probe.at,
        last: probe.at,
        tcp: new Set(),
        udp: new Set(),
        kinds: new Set(),
        probes: 0,
        outcome: 'watched',
        family: probe.family,
        summarized: false,
        reason: undefined,
      };
      this.started += 1;
    }
    scan.last = Math.max(scan.last, probe.at);
    return scan;
  }

  private count(source: string, scan: OpenScan, kind: ScanKind, outcome: ScanOutcome, reason: string | undefined): void {
    scan.kinds.add(kind);
    scan.probes += 1;
    if (STRENGTH[outcome] > STRENGTH[scan.outcome]) scan.outcome = outcome;
    if (reason !== undefined) scan.reason = reason;
    this.open.set(source, scan);
    this.changed.add(source);
    while (this.open.size > this.maxSources) {
      const oldest = this.open.keys().next();
      if (oldest.done === true) break;
      this.open.delete(oldest.value);
      this.changed.delete(oldest.value);
    }
  }

  /** The response to a scan finished: its outcome, if stronger than what the record says, and why it is not blocked. */
  settle(source: string, outcome: ScanOutcome, reason?: string): void {
    const scan = this.open.get(source);
    if (scan === undefined) return;
    const stronger = STRENGTH[outcome] > STRENGTH[scan.outcome];
    const newReason = reason !== undefined && reason !== scan.reason;
    if (!stronger && !newReason) return;
    if (stronger) scan.outcome = outcome;
    if (newReason) scan.reason = reason;
    this.changed.add(source);
  }

  /**
   * The records changed since they were last taken (for the store and the `scan` push), each
   * once, at most `limit` of them: the rest stay changed for the next call, so a flood of
   * sources costs a bounded write and push a tick, and no record is lost for it.
   */
  takeChanged(limit = Infinity): ScanRecord[] {
    const records: ScanRecord[] = [];
    for (const source of this.changed) {
      if (records.length >= limit) break;
      this.changed.delete(source);
      const scan = this.open.get(source);
      if (scan !== undefined) records.push(toRecord(source, scan));
    }
    return records;
  }

  /** Scans decided (blocked or reported) since the last call and not summarized before: one summary each. */
  takeSummaries(): ScanRecord[] {
    const records: ScanRecord[] = [];
    for (const [source, scan] of this.open) {
      if (scan.summarized || scan.outcome === 'watched') continue;
      scan.summarized = true;
      records.push(toRecord(source, scan));
    }
    return records;
  }

  /** The scan of `source` as it stands now (its probes so far), or null when none is open. */
  current(source: string): ScanRecord | null {
    const scan = this.open.get(source);
    return scan === undefined ? null : toRecord(source, scan);
  }

  /** Scans started since the helper started (metrics). */
  get startedCount(): number {
    return this.started;
  }
}

function toRecord(source: string, scan: OpenScan): ScanRecord {
  const sorted = (ports: Set<number>) => [...ports].sort((a, b) => a - b);
  const protocols: Protocol[] = [...(scan.tcp.size > 0 ? (['tcp'] as const) : []), ...(scan.udp.size > 0 ? (['udp'] as const) : [])];
  return {
    id: scan.id,
    scanner: source,
    family: scan.family,
    firstProbe: scan.first,
    lastProbe: scan.last,
    ports: { tcp: sorted(scan.tcp), udp: sorted(scan.udp) },
    kinds: [...scan.kinds].sort(),
    protocols,
    probes: scan.probes,
    outcome: scan.outcome,
    ...(scan.outcome === 'blocked' || scan.reason === undefined ? {} : { reason: scan.reason }),
  };
}
