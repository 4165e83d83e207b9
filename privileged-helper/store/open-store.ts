// Opening the event store at start so that a bad store never keeps the helper from running:
// a store SQLite calls damaged (not a database, malformed, cut short) is moved aside and a
// new one started; one that cannot be used for any other reason (an unsafe path, a full or
// read-only disk, another program's lock) is left as it is and the helper keeps its events
// in memory. Either way one log line says what happened, naming the file(s), and status()
// says the store is degraded for as long as it is.

import { messages } from '../reporters/messages.js';
import { EventStore, type EventStoreOptions } from './event-store.js';
import { moveStoreAside, prepareStoreFile, readStoreHeader } from './store-files.js';
import { failureText, headerProblem, storeFailureKind, type StoreFailureKind } from './store-health.js';

export interface OpenStoreDeps {
  readonly log: (message: string) => void;
  readonly clock: () => number;
}

type Attempt = { readonly store: EventStore } | { readonly kind: StoreFailureKind; readonly why: string };

/** The store named by STORE_FILE ("" = in memory), checked, and replaced by a new one if damaged. */
export async function openStore(file: string, deps: OpenStoreDeps): Promise<EventStore> {
  const options: EventStoreOptions = { log: deps.log, clock: deps.clock };
  if (file === '') return new EventStore(':memory:', options);
  const first = await attempt(file, options);
  if ('store' in first) return first.store;
  if (first.kind !== 'damaged') return inMemory(file, `could not be opened (${first.why}); it was left as it is`, options);
  let moved: string;
  try {
    moved = await moveStoreAside(file, deps.clock());
  } catch (error) {
    return inMemory(file, `could not be opened (${first.why}) nor moved aside (${failureText(error)})`, options);
  }
  const fresh = await attempt(file, options);
  if (!('store' in fresh)) return inMemory(file, `could not be opened (${first.why}); moved it to ${moved}, but a new store could not be started there (${fresh.why})`, options);
  deps.log(messages.error(`the event store ${file} could not be opened (${first.why}); moved it to ${moved}; started a new, empty store: earlier events and stored blocks are not in it`));
  return fresh.store;
}

/** Makes the path safe, reads the header, opens and verifies; a failure says what kind it was. */
async function attempt(file: string, options: EventStoreOptions): Promise<Attempt> {
  try {
    await prepareStoreFile(file);
    const { header, size } = await readStoreHeader(file);
    const problem = headerProblem(header, size);
    if (problem !== null) return { kind: 'damaged', why: problem };
  } catch (error) {
    // An unsafe path (a link, another user's file, a directory others can write) or no
    // permission: nothing to move aside, and nothing of ours to touch.
    return { kind: storeFailureKind(error), why: failureText(error) };
  }
  let store: EventStore | null = null;
  try {
    store = new EventStore(file, options);
    store.verify();
    return { store };
  } catch (error) {
    store?.close();
    return { kind: storeFailureKind(error), why: failureText(error) };
  }
}

/** Runs on a store in memory, saying so in the log and in every status until a restart. */
function inMemory(file: string, what: string, options: EventStoreOptions): EventStore {
  const problem = `the event store ${file} ${what}; events and blocks are kept in memory only until the helper restarts`;
  options.log?.(messages.error(problem));
  const store = new EventStore(':memory:', options);
  store.setStanding(problem);
  return store;
}
