// One JSON-RPC request over the helper's control socket (a Unix socket, one JSON line each
// way), timed: the masscan figure's latency probe and the restart figure's ledger count.

import { createConnection } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ControlAnswer {
  /** Round trip in ms. */
  readonly ms: number;
  /** The request's result; undefined when the helper answered with an error. */
  readonly result: unknown;
}

/** The answer to `method` (no params), or null when no answer came within timeoutMs. */
export function controlRequest(socketPath: string, method: string, timeoutMs = 5000): Promise<ControlAnswer | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = createConnection(socketPath);
    let buffer = '';
    const done = (value: ControlAnswer | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('error', () => done(null));
    socket.on('connect', () => socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} })}\n`));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const ms = performance.now() - started;
      try {
        const answer = JSON.parse(buffer.slice(0, newline)) as { result?: unknown };
        done({ ms, result: answer.result });
      } catch {
        done(null);
      }
    });
  });
}
