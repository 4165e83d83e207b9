// The line that costly control work waits in (settings and ignore-list edits: a file write and
// a reload each; stats: seconds of SQLite on a worker), one job at a time. Root's jobs go ahead
// of every operator job still waiting, and only a few operator jobs may wait at all, so
// operators flooding the channel keep root waiting for the one job running at most, never for
// theirs, and are refused (rate-limited) rather than queued without end.

import type { CallerRole } from '../../shared/protocol/schemas.js';

/** An operator job refused because enough are already waiting. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

export class RootFirstQueue {
  private running = false;
  private readonly waiting: Record<CallerRole, Array<() => void>> = { admin: [], operator: [] };

  /** `what`: the jobs, in the refusal's words ("settings or ignore-list changes"). */
  constructor(
    private readonly maxWaitingOperatorJobs: number,
    private readonly what: string,
  ) {}

  /** Runs `work` when it is this caller's turn; an operator job over the cap is refused at once. */
  run<T>(role: CallerRole, work: () => Promise<T>): Promise<T> {
    if (role === 'operator' && this.waiting.operator.length >= this.maxWaitingOperatorJobs) {
      return Promise.reject(new QueueFullError(`${this.maxWaitingOperatorJobs} ${this.what} are already waiting; try again when they are done`));
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
