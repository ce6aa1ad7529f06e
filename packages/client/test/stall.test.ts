// The stall guard's timer never outlives its call: a destroyed request's write callbacks fire
// (late, with an error) after the call is over, and each is a progress tick.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withStallGuard } from '../src/stall.ts';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('a tick after the guarded request is over arms no timer', async () => {
  let late: (() => void) | undefined;
  const before = timers();
  await withStallGuard(new AbortController().signal, 60_000, async (_signal, tick) => {
    late = tick;
    tick();
  });
  assert.equal(timers(), before, 'cleared when the call ended');
  late!();
  assert.equal(timers(), before, 'a late tick re-armed the stall timer (it would hold the process open)');
});

test('a request with no tick for stallMs is dropped as a retryable network_error', async () => {
  await assert.rejects(
    withStallGuard(
      new AbortController().signal,
      50,
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    ),
    (e: { code?: string; details?: { stalled?: boolean } }) =>
      e.code === 'network_error' && e.details?.stalled === true,
  );
});
