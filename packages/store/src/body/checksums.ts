import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3Error } from '@chute/errors';
import type { ChecksumAlgorithm } from '../backend/types.ts';
import { crc32c } from '../crc32c.ts';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'];
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32 };

export const checksumHeader = (a: ChecksumAlgorithm): string => `x-amz-checksum-${a.toLowerCase()}`;

export function parseAlgorithm(v: string | undefined): ChecksumAlgorithm | undefined {
  if (v === undefined) return undefined;
  const a = v.toUpperCase();
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(a)) return a as ChecksumAlgorithm;
  if (a === 'CRC64NVME')
    throw new S3Error('NotImplemented', 'The CRC64NVME checksum is not implemented by chute s3');
  throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-algorithm header is invalid.');
}

/** A value as sent in an x-amz-checksum-* header or trailer must be base64 of the right length. */
export function checkChecksumValue(a: ChecksumAlgorithm, value: string, where = 'header'): void {
  const ok =
    /^[A-Za-z0-9+/]*={0,2}$/.test(value) &&
    value.length % 4 === 0 &&
    Buffer.from(value, 'base64').length === DIGEST_BYTES[a];
  if (!ok) throw new S3Error('InvalidRequest', `Value for ${checksumHeader(a)} ${where} is invalid.`);
}

/** Incremental checksum for one of S3's flexible-checksum algorithms. */
export interface Checksummer {
  update(b: Buffer): void;
  /** base64 of the big-endian digest, as S3 writes it. */
  digest(): string;
  /** raw digest bytes (for composite checksums). */
  raw(): Buffer;
}

export function checksummer(a: ChecksumAlgorithm): Checksummer {
  if (a === 'SHA1' || a === 'SHA256') {
    const h: Hash = createHash(a === 'SHA1' ? 'sha1' : 'sha256');
    let out: Buffer | undefined;
    const raw = () => {
      out ??= h.digest();
      return out;
    };
    return { update: (b) => h.update(b), raw, digest: () => raw().toString('base64') };
  }
  const fn = a === 'CRC32' ? crc32 : crc32c;
  let v = 0;
  const raw = () => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return b;
  };
  return {
    update: (b) => {
      v = fn(b, v);
    },
    raw,
    digest: () => raw().toString('base64'),
  };
}
