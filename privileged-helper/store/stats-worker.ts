// The statistics worker thread: opens the event store read-only and answers one query at a
// time with computeStats. Started by StatsWorker (event-stats.ts); never writes.

import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { computeStats, type StatsQuery } from './event-stats.js';

const { file } = workerData as { file: string };
const db = new DatabaseSync(file, { readOnly: true });
db.exec('PRAGMA busy_timeout = 5000;');

parentPort?.on('message', (message: { id: number; query: StatsQuery; now: number }) => {
  try {
    parentPort?.postMessage({ id: message.id, result: computeStats(db, message.query, message.now) });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
