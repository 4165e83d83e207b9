// The last few distinct sources that scanned this machine, newest first, and whether each
// is blocked right now. Built from the helper's event stream; the tray lists them with a
// one-click Block / Unblock.

import type { StoredEvent } from '../shared/protocol/schemas.js';

export interface RecentScanner {
  readonly source: string;
  readonly resolvedName?: string;
  readonly lastSeen: number;
  /** Scan events seen from this source since the app started. */
  readonly probes: number;
  readonly blocked: boolean;
  /** The newest scan event from this source: what "open" shows. */
  readonly lastEventId: number;
}

export const DEFAULT_RECENT_LIMIT = 5;

/** Returns a new list with the event applied; the input is never modified. */
export function recordScannerEvent(list: readonly RecentScanner[], event: StoredEvent, limit = DEFAULT_RECENT_LIMIT): RecentScanner[] {
  if (event.type === 'block') {
    // Block changes only update sources already listed: a manual block of some other
    // address is not a scanner.
    return list.map((s) => (s.source === event.address ? { ...s, blocked: event.change === 'added' } : s));
  }
  if (event.action === 'ignored') return [...list]; // the user said this source is fine
  const previous = list.find((s) => s.source === event.source);
  const blocked = event.action === 'blocked' || event.action === 'already-blocked' ? true : (previous?.blocked ?? false);
  const name = event.resolvedName ?? previous?.resolvedName;
  const updated: RecentScanner = {
    source: event.source,
    ...(name === undefined ? {} : { resolvedName: name }),
    lastSeen: Math.max(event.at, previous?.lastSeen ?? 0),
    probes: (previous?.probes ?? 0) + 1,
    blocked,
    lastEventId: Math.max(event.id, previous?.lastEventId ?? 0),
  };
  return [updated, ...list.filter((s) => s.source !== event.source)].slice(0, Math.max(0, limit));
}
