/**
 * How often and how patiently to try again: `attempts` retries after the first try, waiting
 * `baseMs × factor^(n−1)` before retry n, capped at `maxMs`, spread by ±`jitter` (a fraction)
 * so that many clients do not reconnect in lockstep.
 */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  factor: number;
  jitter: number;
}

/** No retries; the delays used once retries are asked for. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 0, baseMs: 250, maxMs: 10_000, factor: 2, jitter: 0.2 };

/**
 * The delay before retry number `attempt` (1-based), never above `maxMs`.
 *
 * @example
 * ```ts
 * backoffDelay({ ...DEFAULT_RETRY, attempts: 5 }, 3, () => 0.5); // 1000
 * ```
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.max(0, attempt - 1));
  const spread = raw * policy.jitter;
  return Math.max(0, Math.min(policy.maxMs, Math.round(raw - spread + random() * 2 * spread)));
}
