// The retry policy as a table: what is retried, how long apart, and when it gives up.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import {
  backoffMs,
  ChuteClientError,
  DEFAULT_RETRY,
  isRetryable,
  parseRetryAfter,
  type RetryPolicy,
  retryDelay,
} from '../src/index.ts';
import { withRetry } from '../src/retry.ts';

const http = (status: number, retryAfterMs?: number) =>
  new ChuteClientError(`http_${status}`, 'x', { source: 'storage', status, retryAfterMs });
const client = (code: string) => new ChuteClientError(code, 'x', { source: 'client' });
const policy: RetryPolicy = { ...DEFAULT_RETRY, random: () => 0.999999 };

describe('retry policy', () => {
  test('retried: network errors, every 5xx, 429; never: other 4xx, aborts, bad answers, foreign errors', () => {
    for (const e of [
      client('network_error'),
      http(500),
      http(502),
      http(503),
      http(504),
      http(599),
      http(429),
    ])
      assert.equal(isRetryable(e), true, `${e.code} ${e.status}`);
    for (const s of [400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 416, 499])
      assert.equal(isRetryable(http(s)), false, String(s));
    for (const e of [
      client('aborted'),
      client('invalid_response'),
      client('grant_expired'),
      new Error('x'),
      'str',
    ])
      assert.equal(isRetryable(e), false, String(e));
  });

  test('full jitter: the ceiling doubles from baseMs up to maxMs; the delay is random below it', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((r) =>
      backoffMs(r, { baseMs: 500, maxMs: 20_000, random: () => 0.999999 }),
    );
    assert.deepEqual(ceilings, [499, 999, 1999, 3999, 7999, 15999, 19999, 19999]);
    assert.equal(backoffMs(3, { baseMs: 500, maxMs: 20_000, random: () => 0 }), 0);
    assert.equal(backoffMs(3, { baseMs: 500, maxMs: 20_000, random: () => 0.5 }), 1000);
  });

  test('gives up after `attempts` tries; Retry-After wins over backoff, and one too long is not waited for', () => {
    assert.equal(retryDelay(http(503), 1, policy), 499);
    assert.equal(retryDelay(http(503), 4, policy), 3999);
    assert.equal(retryDelay(http(503), 5, policy), undefined, 'the fifth try was the last');
    assert.equal(retryDelay(http(429, 3000), 1, policy), 3000);
    assert.equal(retryDelay(http(503, 0), 2, policy), 0);
    assert.equal(retryDelay(http(429, 61_000), 1, policy), undefined);
    assert.equal(retryDelay(http(429, 61_000), 1, { ...policy, maxRetryAfterMs: 120_000 }), 61_000);
    assert.equal(retryDelay(http(413), 1, policy), undefined);
  });

  test('Retry-After: delta-seconds or an HTTP-date; anything else is ignored', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past: now');
    for (const bad of [null, undefined, '', 'soon', '-5', '1.5'])
      assert.equal(parseRetryAfter(bad, now), undefined);
  });

  test('withRetry: tries until success, reports each retry, frees its timer listener', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    let calls = 0;
    const out = await withRetry(
      'grant',
      async () => {
        if (++calls < 3) throw http(503);
        return 'ok';
      },
      { policy: { ...policy, baseMs: 1 }, signal: controller.signal, onRetry: (e) => seen.push(e.retry) },
    );
    assert.equal(out, 'ok');
    assert.deepEqual(seen, [1, 2]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('withRetry: an abort during the backoff ends it at once with `aborted`', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const p = withRetry(
      'upload',
      async () => {
        throw http(503, 30_000);
      },
      { policy, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(p, (e: ChuteClientError) => e.code === 'aborted');
    assert.ok(Date.now() - started < 10_000, 'did not wait out the 30 s Retry-After');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('withRetry: a 4xx is thrown at the first try', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        'grant',
        async () => {
          calls++;
          throw http(403);
        },
        { policy, signal: new AbortController().signal },
      ),
      (e: ChuteClientError) => e.status === 403,
    );
    assert.equal(calls, 1);
  });
});
