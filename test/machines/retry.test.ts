import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from '../../src/machines/retry.js';

const policy: RetryPolicy = { attempts: 10, baseMs: 100, maxMs: 2_000, factor: 2, jitter: 0.2 };

describe('retry backoff', () => {
  it('does not retry by default', () => {
    expect(DEFAULT_RETRY.attempts).toBe(0);
  });

  it('doubles the delay with each attempt when there is no jitter', () => {
    const exact = { ...policy, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(exact, n))).toEqual([100, 200, 400, 800, 1_600]);
  });

  it('never waits longer than the cap', () => {
    for (let attempt = 1; attempt <= 40; attempt++) {
      for (const r of [0, 0.5, 0.999_999]) expect(backoffDelay(policy, attempt, () => r)).toBeLessThanOrEqual(policy.maxMs);
    }
    expect(backoffDelay({ ...policy, jitter: 0 }, 30)).toBe(policy.maxMs);
  });

  it('spreads each delay by ±jitter around its nominal value', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(320);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(400);
    expect(backoffDelay(policy, 3, () => 0.999_999)).toBe(480);
  });

  it('keeps random delays within bounds', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const nominal = Math.min(policy.maxMs, policy.baseMs * policy.factor ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(policy, attempt);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - policy.jitter)));
        expect(delay).toBeLessThanOrEqual(Math.min(policy.maxMs, Math.ceil(nominal * (1 + policy.jitter))));
      }
    }
  });

  it('treats attempt 0 or less as the first', () => {
    expect(backoffDelay({ ...policy, jitter: 0 }, 0)).toBe(100);
  });

  it('documents its example', () => {
    expect(backoffDelay({ ...DEFAULT_RETRY, attempts: 5 }, 3, () => 0.5)).toBe(1_000);
  });
});
