/**
 * How a multipart upload is cut. S3: parts are 5 MiB to 5 GiB (the last may be smaller), at most
 * 10,000 of them. Parts of 16 MiB keep requests few (and per-part overhead small against the
 * bytes) while a lost part costs little to send again; very large files get larger parts so the
 * count stays within 10,000.
 */
export const DEFAULT_PART_BYTES = 16 * 2 ** 20;
export const MAX_PARTS = 10_000;
const MIB = 2 ** 20;
/** S3: every part but the last is at least 5 MiB. */
export const MIN_PART_BYTES = 5 * MIB;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

export function planParts(size: number): PartPlan {
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError('a multipart upload needs at least 1 byte');
  const needed = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  const partSize = Math.max(DEFAULT_PART_BYTES, needed);
  return { partSize, partCount: Math.ceil(size / partSize) };
}

/** The exact size of part `n` (1-based) of a `size`-byte upload cut into `partSize` parts. */
export function partBytes(size: number, partSize: number, n: number): number {
  const count = Math.ceil(size / partSize);
  if (!Number.isSafeInteger(n) || n < 1 || n > count) throw new RangeError(`no part ${n} of ${count}`);
  return n < count ? partSize : size - partSize * (count - 1);
}
