import type { Readable } from 'node:stream';
import { S3Error } from '@chute/errors';
import { checkLength, type LengthRange } from '@chute/policy';
import type { BlobWriter, StoredChecksum } from '../backend/types.ts';
import { checksummer } from '../body/checksums.ts';
import { consume } from '../body/consume.ts';
import { MAX_PUT_BYTES } from '../body/ingest.ts';
import { startMd5 } from '../body/md5.ts';
import type { IntegrityPlan } from './attrs.ts';

/**
 * After a refusal (too large, bad policy) the rest of the file is read and dropped up to this
 * many bytes, so a browser still gets to read the error document; past it the connection is cut.
 */
export const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

export interface Received {
  size: number;
  md5: Buffer;
  checksum?: StoredChecksum;
}

/**
 * Reads what is left of a refused form's file and drops it, up to `limit` bytes. Resolves with
 * the bytes read, and whether the file ended within the limit.
 */
export async function drain(
  file: Readable,
  limit = DRAIN_LIMIT_BYTES,
): Promise<{ bytes: number; ended: boolean }> {
  let bytes = 0;
  try {
    for await (const chunk of file) {
      bytes += (chunk as Buffer).length;
      if (bytes > limit) return { bytes, ended: false };
    }
  } catch {
    return { bytes, ended: false };
  }
  return { bytes, ended: true };
}

/**
 * Streams the `file` part into `writer` — never buffered — hashing as it goes, and enforces
 * what the policy and the form demand before the caller may commit: the policy's
 * `content-length-range` (EntityTooLarge as soon as the maximum is crossed: the blob is aborted
 * at once, so no byte beyond the limit is stored; EntityTooSmall at the end), S3's 5 GB object
 * limit, Content-MD5 (BadDigest) and `x-amz-checksum-*` (BadDigest).
 */
export async function receiveFile(
  file: Readable,
  writer: BlobWriter,
  range: LengthRange | undefined,
  integrity: IntegrityPlan,
): Promise<Received> {
  const max = Math.min(range?.max ?? MAX_PUT_BYTES, MAX_PUT_BYTES);
  const md5 = startMd5(writer);
  const sum = integrity.checksum ? checksummer(integrity.checksum.algorithm) : undefined;
  let size = 0;
  let digest: Buffer;
  try {
    let over: number | undefined;
    try {
      await consume(file, (b) => {
        if (size + b.length > max) {
          over = size + b.length;
          throw new S3Error('EntityTooLarge');
        }
        size += b.length;
        md5.update(b);
        sum?.update(b);
        return writer.write(b);
      });
    } catch (e) {
      if (over === undefined) throw e;
      md5.cancel();
      await writer.abort();
      // Keep reading so the answer can name the size S3 would (ProposedSize) and the browser can
      // read it; an upload far beyond the limit is cut off instead.
      const rest = await drain(file);
      throw new S3Error('EntityTooLarge', undefined, {
        ProposedSize: String(over + rest.bytes),
        MaxSizeAllowed: String(max),
      });
    }
    writer.flush?.();
    digest = await md5.digest();
  } catch (e) {
    md5.cancel();
    await writer.abort();
    if (e instanceof S3Error) throw e;
    // The multipart body broke off or was malformed after the file began.
    throw new S3Error('MalformedPOSTRequest');
  }
  try {
    checkLength(range, size);
    if (integrity.contentMd5 && !digest.equals(integrity.contentMd5)) throw new S3Error('BadDigest');
    let checksum: StoredChecksum | undefined;
    if (integrity.checksum && sum) {
      const value = sum.digest();
      if (integrity.checksum.expected !== undefined && value !== integrity.checksum.expected) {
        throw new S3Error(
          'BadDigest',
          `The ${integrity.checksum.algorithm} you specified did not match the calculated checksum.`,
        );
      }
      checksum = { algorithm: integrity.checksum.algorithm, value, type: 'FULL_OBJECT' };
    }
    return checksum ? { size, md5: digest, checksum } : { size, md5: digest };
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
