/** ±20 %: retries of many deliveries that failed together (a receiver's outage) spread out. */
export const JITTER = 0.2;

/**
 * How long to wait after the `attempts`-th failed attempt (1-based) before the next one, from the
 * schedule, with jitter; undefined when the schedule is used up (the delivery goes dead).
 * `random` is in [0, 1).
 */
export function retryDelay(
  schedule: readonly number[],
  attempts: number,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attempts - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}
