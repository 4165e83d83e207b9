// How many completed connections wait in the accept queue of this host's listening TCP
// sockets, per port, as the kernel reports it in /proc/net/tcp and /proc/net/tcp6 (for a
// LISTEN socket the rx_queue column is the accept backlog). The classic -tcp mode asks it
// before calling a SYN half-open: a queued connection is a handshake that completed but
// whose accept() the event loop has not run yet. Pure parser plus a thin cached reader.

import { readFileSync } from 'node:fs';

const TCP_LISTEN = '0A';

/** Accept-queue lengths by local port, summed over every LISTEN socket in the text. */
export function parseAcceptQueues(text: string, into: Map<number, number> = new Map()): Map<number, number> {
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue ...
    if (fields.length < 5 || fields[3] !== TCP_LISTEN) continue;
    const port = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
    const queued = Number.parseInt(fields[4]?.split(':')[1] ?? '', 16);
    if (!Number.isInteger(port) || !Number.isInteger(queued)) continue;
    into.set(port, (into.get(port) ?? 0) + queued);
  }
  return into;
}

/**
 * Reads both tables at most once per `maxAgeMs` (a burst of SYN verdicts costs one read).
 * On a system without /proc (another OS) every queue reads as empty.
 */
export class ProcAcceptQueues {
  private cached = new Map<number, number>();
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly files: readonly string[] = ['/proc/net/tcp', '/proc/net/tcp6'],
    private readonly maxAgeMs = 20,
    private readonly now: () => number = () => performance.now(),
  ) {}

  queued(port: number): number {
    const now = this.now();
    if (now - this.readAt > this.maxAgeMs) {
      const queues = new Map<number, number>();
      for (const file of this.files) {
        try {
          parseAcceptQueues(readFileSync(file, 'utf8'), queues);
        } catch {
          /* not Linux, or no IPv6: nothing queued there */
        }
      }
      this.cached = queues;
      this.readAt = now;
    }
    return this.cached.get(port) ?? 0;
  }
}
