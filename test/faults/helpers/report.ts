// The one line per scenario that CI logs show, and the assertions every scenario shares.
import assert from 'node:assert/strict';
import type { Tally } from './load.ts';

export function reportLine(
  scenario: string,
  tally: Tally,
  lost: number,
  extra: Record<string, number | string> = {},
): string {
  const fields = {
    sent: tally.sent,
    acknowledged: tally.acknowledged.length,
    lost,
    retried: tally.retried,
    stored: tally.stored,
    unavailable503: tally.unavailable,
    ...extra,
  };
  const line = `faults: ${scenario} ${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  console.log(line);
  console.log(`faults: ${scenario} answers other than 2xx: ${tally.otherAnswers() || 'none'}`);
  return line;
}

/** What must hold after any scenario: nothing lost, no answer outside the contract, no flow left failed. */
export function assertClean(tally: Tally, lost: readonly string[]): void {
  assert.deepEqual(lost, [], 'acknowledged uploads lost');
  assert.deepEqual(tally.violations, [], 'answers outside the contract (500, 503 without code/Retry-After)');
  assert.deepEqual(tally.storeLost, [], 'bytes storage acknowledged, then not found by complete');
  assert.deepEqual(tally.failed, [], 'flows that ended without an answer from the contract');
}
