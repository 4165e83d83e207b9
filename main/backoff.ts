// Reconnect delays for the helper supervisor: exponential, capped, with jitter. Jitter keeps
// several desktop sessions on one machine from hammering a restarting helper in lockstep.

export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** No delay ever exceeds this, however many attempts failed. */
  readonly maxMs: number;
  readonly factor: number;
  /** 0..1: the share of each delay that is randomised (0.5 = between half and all of it). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.5 };

/**
 * The delay before retry number `attempt` (0 = first retry). `random` returns [0, 1); the
 * result lies in [base * (1 - jitter), base] where base = min(maxMs, initialMs * factor^attempt).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const safeAttempt = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // Math.min before Math.pow overflows matters little (Infinity is capped too), but keep it finite.
  const base = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, Math.min(safeAttempt, 64)));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base * (1 - jitter * r));
}
