// The store's reader thread: opens the event store read-only and answers one job at a time
// (statistics, or a page of events) with the same code the main thread would run. Started by
// StoreReader (store-reader.ts); never writes. A store that cannot be opened or read is
// answered job by job with SQLite's own error (and code), never by the thread dying.

import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { queryEvents } from './event-query.js';
import { computeStats } from './event-stats.js';
import type { ReaderJob } from './store-reader.js';

const { file } = workerData as { file: string };
let db: DatabaseSync | null = null;

function connection(): DatabaseSync {
  if (db === null) {
    const opened = new DatabaseSync(file, { readOnly: true });
    opened.exec('PRAGMA busy_timeout = 5000;');
    db = opened;
  }
  return db;
}

parentPort?.on('message', (message: { id: number; job: ReaderJob }) => {
  try {
    const { job } = message;
    const result = job.kind === 'stats' ? computeStats(connection(), job.query, job.now) : queryEvents(connection(), job.query);
    parentPort?.postMessage({ id: message.id, result });
  } catch (error) {
    const errcode = (error as { errcode?: unknown }).errcode;
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error), ...(typeof errcode === 'number' ? { errcode } : {}) });
  }
});
