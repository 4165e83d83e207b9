// Reads of the event store that can take long on a big store (statistics over the whole
// history, a listing filtered on a column no index serves) run on a thread of their own with
// a read-only connection (WAL lets it read while the daemon writes), so detection, which
// shares the helper's main thread with the control sockets, never waits for them.

import { Worker } from 'node:worker_threads';
import type { EventPage, EventQuery } from './event-query.js';
import type { EventStats, StatsQuery } from './event-stats.js';

/** A job for the reader thread, and what each kind answers. */
export type ReaderJob = { readonly kind: 'stats'; readonly query: StatsQuery; readonly now: number } | { readonly kind: 'events'; readonly query: EventQuery };
export type ReaderAnswer<J extends ReaderJob> = J extends { kind: 'stats' } ? EventStats : EventPage & { unreadable: number };

/** A read that takes longer than this is abandoned (the thread is replaced). */
const READ_TIMEOUT_MS = 120_000;

interface ThreadAnswer {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
  readonly errcode?: number;
}

/** A read the thread could not do; `errcode` is SQLite's when SQLite said no. */
export class ReaderError extends Error {
  constructor(
    message: string,
    readonly errcode?: number,
  ) {
    super(message);
  }
}

/** One thread, one read-only connection, one job at a time (callers queue them). */
export class StoreReader {
  private worker: Worker | null = null;
  private serial = 0;

  constructor(private readonly file: string) {}

  run<J extends ReaderJob>(job: J): Promise<ReaderAnswer<J>> {
    const worker = (this.worker ??= this.spawn());
    const id = ++this.serial;
    return new Promise<ReaderAnswer<J>>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        this.terminate();
        reject(new ReaderError(`reading the store (${job.kind}) took too long`));
      }, READ_TIMEOUT_MS);
      timer.unref();
      const onMessage = (answer: ThreadAnswer) => {
        if (answer.id !== id) return;
        cleanup();
        if (answer.result !== undefined) resolve(answer.result as ReaderAnswer<J>);
        else reject(new ReaderError(answer.error ?? 'the store reader failed', answer.errcode));
      };
      const onExit = () => {
        cleanup();
        if (this.worker === worker) this.worker = null;
        reject(new ReaderError('the store reader stopped'));
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        worker.off('error', onExit);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', onExit);
      worker.postMessage({ id, job });
    });
  }

  terminate(): void {
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./store-reader-thread.js', import.meta.url), { workerData: { file: this.file } });
    // An idle reader must not keep the daemon alive at shutdown.
    worker.unref();
    return worker;
  }
}
