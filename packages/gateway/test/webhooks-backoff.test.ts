import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryDelay } from '../src/webhooks/backoff.ts';

test('retryDelay: the schedule step after the n-th failure, ±20 % jitter, undefined once used up', () => {
  const schedule = [5_000, 300_000];
  assert.equal(
    retryDelay(schedule, 1, () => 0),
    4_000,
  );
  assert.equal(
    retryDelay(schedule, 1, () => 0.5),
    5_000,
  );
  assert.equal(
    retryDelay(schedule, 1, () => 0.999_999),
    6_000,
  );
  assert.equal(
    retryDelay(schedule, 2, () => 0),
    240_000,
  );
  assert.equal(
    retryDelay(schedule, 3, () => 0.5),
    undefined,
  );
  assert.equal(retryDelay([], 1), undefined);
  const spread = new Set(Array.from({ length: 50 }, () => retryDelay(schedule, 1)));
  assert.ok(spread.size > 10, 'random by default');
  for (const d of spread) assert.ok(d! >= 4_000 && d! <= 6_000);
});
