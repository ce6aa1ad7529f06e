import { sleep } from './abort.ts';
import { ChuteClientError } from './errors.ts';

/**
 * Which failures are retried, how often and how long apart. Retried: no answer at all
 * (`network_error`), 5xx, and 429 — the request may succeed later. Never retried: any other 4xx
 * (the same request gets the same answer: a refused size, a bad token, an expired grant — expiry
 * has its own path, a re-grant), an abort, a malformed answer.
 */
export interface RetryPolicy {
  /** Tries in all, the first included (default 5). */
  attempts: number;
  /** Backoff before the first retry, ms (default 500); doubles each retry. */
  baseMs: number;
  /** Backoff ceiling, ms (default 20 s). */
  maxMs: number;
  /**
   * A Retry-After longer than this is not waited for (default 60 s): the error is thrown with its
   * `retryAfterMs`, so a caller can decide (a daily byte quota may say "in 10 hours").
   */
  maxRetryAfterMs: number;
  /** [0, 1): the jitter source (tests pin it). */
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseMs: 500,
  maxMs: 20_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

export function isRetryable(e: unknown): boolean {
  if (!(e instanceof ChuteClientError)) return false;
  if (e.code === 'network_error') return true;
  if (e.status === undefined) return false;
  return e.status >= 500 || e.status === 429;
}

/**
 * "Full jitter" (AWS Architecture Blog, Exponential Backoff And Jitter): a uniform delay in
 * [0, min(max, base·2^(retry-1))), so clients that failed together do not retry together.
 */
export function backoffMs(retry: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs' | 'random'>): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(policy.random() * ceiling);
}

/**
 * The wait before retry number `retry` (1 = first retry), or undefined to give up now.
 * Retry-After, when the server sent one, wins over the backoff.
 */
export function retryDelay(e: unknown, retry: number, policy: RetryPolicy): number | undefined {
  if (!isRetryable(e) || retry >= policy.attempts) return undefined;
  const after = (e as ChuteClientError).retryAfterMs;
  if (after !== undefined) return after > policy.maxRetryAfterMs ? undefined : after;
  return backoffMs(retry, policy);
}

export interface RetryEvent {
  /** What is retried ("grant", "upload", "complete", "part 3"). */
  what: string;
  /** 1 = the first retry. */
  retry: number;
  delayMs: number;
  error: ChuteClientError;
}

/** Runs `fn` until it succeeds, fails for good, or `signal` aborts (also during the wait). */
export async function withRetry<T>(
  what: string,
  fn: (attempt: number) => Promise<T>,
  options: { policy: RetryPolicy; signal: AbortSignal; onRetry?: ((e: RetryEvent) => void) | undefined },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const delayMs = retryDelay(e, attempt, options.policy);
      if (delayMs === undefined || options.signal.aborted) throw e;
      options.onRetry?.({ what, retry: attempt, delayMs, error: e as ChuteClientError });
      await sleep(delayMs, options.signal);
    }
  }
}
