import { S3Error } from '@chute/errors';
import type { LengthRange } from './types.ts';

/**
 * The size check, run once the file has been streamed and its size is known. Bounds are
 * inclusive: against `[5, 10]` S3 took 5 and 10 bytes, answered 12 with `EntityTooLarge`
 * (ProposedSize 12, MaxSizeAllowed 10) and 1 with `EntityTooSmall` (ProposedSize 1,
 * MinSizeAllowed 5). The registry's default messages are S3's wire texts ("… allowed size",
 * not the error table's "… allowed object size."). Too large is checked first, so a range with
 * min > max refuses every size.
 */
export function checkLength(range: LengthRange | undefined, size: number): void {
  if (!range) return;
  if (size > range.max) {
    throw new S3Error('EntityTooLarge', undefined, {
      ProposedSize: String(size),
      MaxSizeAllowed: String(range.max),
    });
  }
  if (size < range.min) {
    throw new S3Error('EntityTooSmall', undefined, {
      ProposedSize: String(size),
      MinSizeAllowed: String(range.min),
    });
  }
}
