/**
 * Dates as SigV4 writes them: `YYYYMMDDTHHMMSSZ` ("ISO 8601 basic format", x-amz-date) and the
 * `YYYYMMDD` of the credential scope.
 */

export interface AmzDate {
  long: string;
  short: string;
}

let lastSecond = Number.NaN;
let lastValue: AmzDate = { long: '', short: '' };

export function toAmzDate(epochMs: number): AmzDate {
  const second = Math.floor(epochMs / 1000);
  // Signing in a loop asks for the same second over and over; formatting a Date is not free.
  if (second === lastSecond) return lastValue;
  const iso = new Date(second * 1000).toISOString(); // 2013-05-24T00:00:00.000Z
  const long = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  lastValue = { long, short: long.slice(0, 8) };
  lastSecond = second;
  return lastValue;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `YYYYMMDDTHHMMSSZ`; NaN when malformed or not a real calendar time. */
export function parseAmzDate(value: string): number {
  const m = AMZ_DATE.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 20130231 over into March; a rolled-over date is not the date that was signed.
  return toAmzDate(ms).long === value ? ms : Number.NaN;
}

/** ISO 8601 without milliseconds, as S3 prints times in error details and POST policies. */
export function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
