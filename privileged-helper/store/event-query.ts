// Listing events from the store (the `events.list` RPC): one SQL query over a connection
// handed in, so the helper's own thread (tests, in-memory stores) and the reader thread
// (store-reader-thread.ts) run the same code. Rows written by an older or damaged helper are
// cleaned or skipped here, never passed on as they are.

import type { DatabaseSync } from 'node:sqlite';
import type { BlockChangeEvent, DetectionEvent } from '../../shared/domain/detection-event.js';
import { storedEventSchema } from '../../shared/protocol/schemas.js';
import { cleanText } from '../reporters/clean-text.js';

export type StoredEvent = (DetectionEvent | BlockChangeEvent) & { readonly id: number };

export interface EventQuery {
  readonly since?: number;
  readonly until?: number;
  readonly host?: string;
  readonly port?: number;
  readonly kind?: string;
  readonly protocol?: string;
  readonly action?: string;
  readonly limit: number;
  /** Only events with an id below this (paging from newest to oldest). */
  readonly before?: number;
}

export interface EventPage {
  readonly events: StoredEvent[];
  /** Where the next page starts (the `before` to send), null at the end. */
  readonly nextCursor: number | null;
}

/** One page of events, newest first, and how many rows were skipped as unreadable. */
export function queryEvents(db: DatabaseSync, query: EventQuery): EventPage & { unreadable: number } {
  const where: string[] = [];
  const args: Array<string | number> = [];
  const add = (clause: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    args.push(value);
  };
  add('at >= ?', query.since);
  add('at <= ?', query.until);
  add('host = ?', query.host);
  add('port = ?', query.port);
  add('kind = ?', query.kind);
  add('protocol = ?', query.protocol);
  add('action = ?', query.action);
  add('id < ?', query.before);
  const sql = `SELECT id, body FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...args, query.limit + 1) as Array<{ id: number; body: string }>;
  const kept = rows.slice(0, query.limit);
  const page: StoredEvent[] = [];
  let unreadable = 0;
  for (const row of kept) {
    const event = readStoredEvent(Number(row.id), row.body);
    if (event === null) unreadable += 1;
    else page.push(event);
  }
  // The cursor is the last row read, kept or not, so a skipped row never ends the paging.
  return { events: page, unreadable, nextCursor: rows.length > query.limit ? (kept.length > 0 ? Number(kept[kept.length - 1]!.id) : null) : null };
}

/**
 * One stored row as an event, whatever an older or damaged helper wrote: texts are cleaned
 * and bounded the way they are when made; a row that still is not a valid event is null
 * (skipped and counted), so one bad row never breaks a page.
 */
function readStoredEvent(id: number, body: string): StoredEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const fields: Record<string, unknown> = { ...(raw as Record<string, unknown>), id };
  if (typeof fields.reason === 'string') fields.reason = cleanText(fields.reason);
  if (typeof fields.resolvedName === 'string' && !/^[A-Za-z0-9.-]{1,253}$/.test(fields.resolvedName)) delete fields.resolvedName;
  const parsed = storedEventSchema.safeParse(fields);
  return parsed.success ? (parsed.data as StoredEvent) : null;
}
