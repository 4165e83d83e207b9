// The one line that config and ignore-file edits wait in: each reads, edits, validates, writes
// and reloads, one at a time. Root's edits go ahead of every operator edit still waiting, and
// only a few operator edits may wait at all, so operators flooding the channel with edits (each
// costs a file write and a reload) can keep root waiting for one edit at most, never for theirs.

import type { CallerRole } from '../../shared/protocol/schemas.js';

/** How many operator edits may wait behind the one running; more are refused. */
export const MAX_WAITING_OPERATOR_EDITS = 8;

/** An operator edit refused because enough are already waiting. */
export class EditQueueFullError extends Error {
  override readonly name = 'EditQueueFullError';
}

export class EditQueue {
  private running = false;
  private readonly waiting: Record<CallerRole, Array<() => void>> = { admin: [], operator: [] };

  constructor(private readonly maxWaitingOperatorEdits = MAX_WAITING_OPERATOR_EDITS) {}

  /** Runs `work` when it is this caller's turn; an operator edit over the cap is refused at once. */
  run<T>(role: CallerRole, work: () => Promise<T>): Promise<T> {
    if (role === 'operator' && this.waiting.operator.length >= this.maxWaitingOperatorEdits) {
      return Promise.reject(new EditQueueFullError(`${this.maxWaitingOperatorEdits} settings or ignore-list changes are already waiting; try again when they are done`));
    }
    return new Promise<T>((resolve, reject) => {
      this.waiting[role].push(() => {
        Promise.resolve()
          .then(work)
          .then(resolve, reject)
          .finally(() => {
            this.running = false;
            this.next();
          });
      });
      this.next();
    });
  }

  private next(): void {
    if (this.running) return;
    const job = this.waiting.admin.shift() ?? this.waiting.operator.shift();
    if (job === undefined) return;
    this.running = true;
    job();
  }
}
