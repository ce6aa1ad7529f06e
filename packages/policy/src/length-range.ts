import type { LengthRange, RangeCondition } from './types.ts';

const DIGITS = /^\d+$/;

/**
 * The bytes a `content-length-range` allows, or undefined when a bound is a string that holds no
 * size: S3 accepted `["content-length-range", "5", "10"]` and failed `["…", "test", "10"]` as a
 * condition. (Non-string bounds were vetted by parsePolicy.)
 */
export function readRange(condition: RangeCondition): LengthRange | undefined {
  const min = readBound(condition[1]);
  const max = readBound(condition[2]);
  return min === undefined || max === undefined ? undefined : { min, max };
}

function readBound(bound: number | string): number | undefined {
  if (typeof bound === 'number') return bound;
  if (!DIGITS.test(bound)) return undefined;
  const n = Number(bound);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Several ranges all apply: the upload must satisfy each, so they narrow to their overlap. */
export function narrow(a: LengthRange | undefined, b: LengthRange): LengthRange {
  return a ? { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) } : b;
}
