// What the daemon reports to subscribers (store, IPC clients, tests): each probe it acted
// on, and each change to the set of blocked addresses.

import type { Probe } from './types.js';

export type DetectionAction = 'blocked' | 'already-blocked' | 'ignored' | 'counted' | 'alert-only' | 'block-failed' | 'rate-limited';

/** A probe the daemon acted on: what the probe was, and what was done about it. */
export interface DetectionEvent extends Pick<Probe, 'at' | 'source' | 'family' | 'port' | 'protocol' | 'kind' | 'mode'> {
  readonly type: 'scan';
  readonly action: DetectionAction;
  /** Why, in a few words: the ignore reason, the failure, "2 of 3 touches". */
  readonly reason?: string;
  readonly resolvedName?: string;
}

export interface BlockChangeEvent {
  readonly type: 'block';
  readonly change: 'added' | 'removed';
  readonly at: number;
  readonly address: string;
  /** e.g. "scan of TCP port 1524", "by hand", "expired", "unblocked by hand". */
  readonly reason: string;
  /** When the block lapses (epoch ms); null = until unblocked. Only for "added". */
  readonly until: number | null;
  /** Set when the block came from the fleet (a CrowdSec decision another machine made). */
  readonly fleet?: FleetOrigin;
}

/** Where a fleet block came from: the CrowdSec machine that reported it, and its scenario. */
export interface FleetOrigin {
  readonly machine: string;
  readonly scenario: string;
}

export type HelperEvent = DetectionEvent | BlockChangeEvent;
