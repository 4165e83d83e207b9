// What the daemon reports about each probe it acted on, for subscribers (store, IPC, tests).

import type { AddressFamily, Mode, Protocol, ScanKind } from '../core/types.js';

export type DetectionAction = 'blocked' | 'already-blocked' | 'ignored' | 'counted' | 'alert-only' | 'block-failed';

export interface DetectionEvent {
  readonly at: number;
  readonly source: string;
  readonly family: AddressFamily;
  readonly port: number;
  readonly protocol: Protocol;
  readonly kind: ScanKind;
  readonly mode: Mode;
  readonly action: DetectionAction;
  /** Why, in a few words: the ignore reason, the failure, "2 of 3 touches". */
  readonly reason?: string;
  readonly resolvedName?: string;
}
