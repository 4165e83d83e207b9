// Statistics over the event store for a time range (the `stats` RPC): SQL aggregation, each
// list bounded. The RPC runs it on a reader thread (store-reader.ts) with its own read-only
// connection so a big store never stalls detection; tests run it in place.

import type { DatabaseSync } from 'node:sqlite';
import type { ScanKind } from '../../shared/domain/types.js';
import type { DetectionAction } from '../../shared/domain/detection-event.js';

/** What `stats` aggregates over: scan events in [since, until], optionally one source. */
export interface StatsQuery {
  readonly since?: number;
  readonly until?: number;
  readonly host?: string;
  /** How many time steps the timeline has (bounded by the protocol). */
  readonly buckets: number;
  /** The top-N lists' length and the most distinct ports listed. */
  readonly top: number;
  readonly maxPorts: number;
}

export interface EventStats {
  readonly since: number;
  readonly until: number;
  readonly total: number;
  readonly sources: number;
  readonly firstSeen: number | null;
  readonly lastSeen: number | null;
  readonly bucketMs: number;
  readonly timeline: Array<{ start: number; count: number }>;
  readonly topSources: Array<{ address: string; count: number }>;
  readonly topPorts: Array<{ port: number; protocol: 'tcp' | 'udp'; count: number }>;
  readonly kinds: Array<{ kind: ScanKind; count: number }>;
  readonly actions: Array<{ action: DetectionAction; count: number }>;
  readonly ports: Array<{ port: number; protocol: 'tcp' | 'udp'; count: number }>;
  readonly distinctPorts: number;
}

/**
 * The width of one timeline step: the range split into `buckets` whole steps, rounded up to
 * a whole second so labels stay readable; never below one second.
 */
export function bucketWidth(since: number, until: number, buckets: number): number {
  const span = Math.max(1, until - since + 1);
  return Math.max(1000, Math.ceil(span / buckets / 1000) * 1000);
}

/** Too many statistics requests are already waiting. */
export class StatsBusyError extends Error {
  constructor() {
    super('the helper is busy computing statistics; try again in a moment');
  }
}

/**
 * Figures over every scan event in [since, until] (optionally one host): a handful of
 * aggregate queries, every list bounded by the query's limits whatever the store holds.
 */
export function computeStats(db: DatabaseSync, query: StatsQuery, now: number): EventStats {
  const where = ["type = 'scan'"];
  const args: Array<string | number> = [];
  if (query.host !== undefined) {
    where.push('host = ?');
    args.push(query.host);
  }
  const scope = where.join(' AND ');
  // Left open, the range starts at the oldest scan (of this host) and ends now.
  const oldest = db.prepare(`SELECT min(at) AS at FROM events WHERE ${scope}`).get(...args) as { at: number | null };
  const until = query.until ?? Math.max(now, query.since ?? 0);
  const since = Math.min(query.since ?? (oldest.at === null ? until : Number(oldest.at)), until);
  const ranged = `${scope} AND at >= ? AND at <= ?`;
  const rangedArgs = [...args, since, until];
  const totals = db.prepare(`SELECT count(*) AS n, count(DISTINCT host) AS sources, min(at) AS first, max(at) AS last FROM events WHERE ${ranged}`).get(...rangedArgs) as {
    n: number;
    sources: number;
    first: number | null;
    last: number | null;
  };
  const bucketMs = bucketWidth(since, until, query.buckets);
  const steps = Math.min(query.buckets, Math.floor((until - since) / bucketMs) + 1);
  const timeline = Array.from({ length: steps }, (_, i) => ({ start: since + i * bucketMs, count: 0 }));
  // node:sqlite binds JS numbers as REAL; the casts keep the step an integer division.
  const perStep = db.prepare(`SELECT (at - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS step, count(*) AS n FROM events WHERE ${ranged} GROUP BY step`).all(since, bucketMs, ...rangedArgs) as Array<{
    step: number;
    n: number;
  }>;
  for (const row of perStep) {
    const slot = timeline[Math.min(steps - 1, Number(row.step))];
    if (slot !== undefined) slot.count += Number(row.n);
  }
  const counted = <T>(sql: string, extra: Array<string | number>, map: (row: Record<string, unknown>) => T): T[] =>
    (db.prepare(sql).all(...rangedArgs, ...extra) as Array<Record<string, unknown>>).map(map);
  const portRow = (row: Record<string, unknown>) => ({ port: Number(row.port), protocol: row.protocol as 'tcp' | 'udp', count: Number(row.n) });
  const distinct = db.prepare(`SELECT count(*) AS n FROM (SELECT DISTINCT port, protocol FROM events WHERE ${ranged})`).get(...rangedArgs) as { n: number };
  return {
    since,
    until,
    total: Number(totals.n),
    sources: Number(totals.sources),
    firstSeen: totals.first === null ? null : Number(totals.first),
    lastSeen: totals.last === null ? null : Number(totals.last),
    bucketMs,
    timeline,
    topSources: counted(`SELECT host, count(*) AS n FROM events WHERE ${ranged} GROUP BY host ORDER BY n DESC, host LIMIT ?`, [query.top], (row) => ({
      address: String(row.host),
      count: Number(row.n),
    })),
    topPorts: counted(`SELECT port, protocol, count(*) AS n FROM events WHERE ${ranged} GROUP BY port, protocol ORDER BY n DESC, port LIMIT ?`, [query.top], portRow),
    kinds: counted(`SELECT kind, count(*) AS n FROM events WHERE ${ranged} GROUP BY kind ORDER BY n DESC, kind`, [], (row) => ({ kind: row.kind as ScanKind, count: Number(row.n) })),
    actions: counted(`SELECT action, count(*) AS n FROM events WHERE ${ranged} GROUP BY action ORDER BY n DESC, action`, [], (row) => ({
      action: row.action as DetectionAction,
      count: Number(row.n),
    })),
    ports: counted(`SELECT port, protocol, count(*) AS n FROM events WHERE ${ranged} GROUP BY port, protocol ORDER BY port, protocol LIMIT ?`, [query.maxPorts], portRow),
    distinctPorts: Number(distinct.n),
  };
}
