/**
 * Durations are written with a unit ("90s", "10m", "1h") for the same reason sizes are: a bare
 * 600 could be seconds or milliseconds. Returns milliseconds.
 */
export type DurationString = `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

export function parseDuration(input: DurationString | string): number {
  const m = DURATION.exec(input.trim());
  const ms = m ? Number(m[1]) * MS[m[2]!]! : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new RangeError(`invalid duration "${input}": write a number and a unit, e.g. "90s" or "10m"`);
  }
  return ms;
}
