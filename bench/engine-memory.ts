// Figure 6, in process: the detection engine fed N distinct sources (one probe each) under
// STATE_MAX_SOURCES, reporting heap and RSS. Run as its own Node process (with
// --expose-gc) so the numbers are the engine's, not the benchmark's.
// Usage: node --expose-gc engine-memory.js '{"count":1000000,"maxSources":65536,"scanTrigger":0}'

import { performance } from 'node:perf_hooks';
import { DetectionEngine } from '../privileged-helper/engine/engine.js';

export interface EngineMemoryResult {
  readonly count: number;
  readonly maxSources: number;
  readonly scanTrigger: number;
  readonly trackedSources: number;
  readonly blocked: number;
  readonly heapUsedMbBefore: number;
  readonly heapUsedMbAfter: number;
  readonly rssMbBefore: number;
  readonly rssMbAfter: number;
  readonly nsPerProbe: number;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** The i-th distinct source (text only, never sent): 198.18.0.0/15 first, then fd00::/8. */
export function nthSource(i: number): string {
  return i < 131_072 ? `198.${18 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}` : `fd00::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
}

function main(): void {
  const request = JSON.parse(process.argv[2] ?? '{}') as { count: number; maxSources: number; scanTrigger: number };
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const engine = new DetectionEngine({ scanTrigger: request.scanTrigger, windowMs: 3_600_000, maxSources: request.maxSources }, { reasonToIgnore: () => null });
  gc();
  const before = process.memoryUsage();
  const started = performance.now();
  const now = Date.now();
  for (let i = 0; i < request.count; i++) {
    const source = nthSource(i);
    const verdict = engine.assess({ source, family: source.includes(':') ? 6 : 4, port: 31337, protocol: 'tcp', kind: 'syn', mode: 'stcp', at: now + i });
    if (verdict.kind === 'triggered') engine.confirmBlock(source, null);
  }
  const elapsed = performance.now() - started;
  gc();
  const after = process.memoryUsage();
  const stats = engine.stats();
  const result: EngineMemoryResult = {
    count: request.count,
    maxSources: request.maxSources,
    scanTrigger: request.scanTrigger,
    trackedSources: stats.trackedSources,
    blocked: stats.blocked,
    heapUsedMbBefore: mb(before.heapUsed),
    heapUsedMbAfter: mb(after.heapUsed),
    rssMbBefore: mb(before.rss),
    rssMbAfter: mb(after.rss),
    nsPerProbe: Math.round((elapsed * 1e6) / request.count),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1]?.endsWith('engine-memory.js') === true) main();
