/**
 * Sizes are written with a unit ("20MB", "4KiB"): a bare 20000000 in a config file is easy to
 * misread by a factor of 1000. KB/MB/GB/TB are decimal (SI, as disks and browsers' file pickers
 * count); KiB/MiB/GiB/TiB are binary. Units are case-insensitive except for the `i`.
 * In code, a number is accepted and means bytes; config files (JSON) take strings only.
 */
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

type Unit = 'B' | 'KB' | 'MB' | 'GB' | 'TB' | 'KiB' | 'MiB' | 'GiB' | 'TiB';
/** "20MB", "1.5GiB", "512B" */
export type SizeString = `${number}${Unit}` | `${number} ${Unit}`;
export type Size = SizeString | number;

const SIZE = /^(\d+(?:\.\d+)?) ?([kmgt]i?b|b)$/i;

/** Bytes for a size; throws RangeError for anything else (no unit, negative, fractional bytes). */
export function parseSize(input: Size | string): number {
  let bytes: number;
  if (typeof input === 'number') {
    bytes = input;
  } else {
    const m = SIZE.exec(input.trim());
    if (!m) throw new RangeError(`invalid size "${input}": write a number and a unit, e.g. "20MB" or "4KiB"`);
    bytes = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  }
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`invalid size ${JSON.stringify(input)}: must be a whole number of bytes ≥ 0`);
  }
  return bytes;
}

/** "20 MB", "4 KiB"-style text for messages; exact when a unit divides evenly, else decimal. */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ['TiB', 2 ** 40],
    ['TB', 1e12],
    ['GiB', 2 ** 30],
    ['GB', 1e9],
    ['MiB', 2 ** 20],
    ['MB', 1e6],
    ['KiB', 2 ** 10],
    ['KB', 1e3],
  ] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return `${bytes} B`;
}
