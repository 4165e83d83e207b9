// The store's reader thread: opens the event store read-only and answers one job at a time
// (statistics, or a page of events) with the same code the main thread would run. Started by
// StoreReader (store-reader.ts); never writes.

import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { queryEvents } from './event-query.js';
import { computeStats } from './event-stats.js';
import type { ReaderJob } from './store-reader.js';

const { file } = workerData as { file: string };
const db = new DatabaseSync(file, { readOnly: true });
db.exec('PRAGMA busy_timeout = 5000;');

parentPort?.on('message', (message: { id: number; job: ReaderJob }) => {
  try {
    const { job } = message;
    const result = job.kind === 'stats' ? computeStats(db, job.query, job.now) : queryEvents(db, job.query);
    parentPort?.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
