import { S3Error } from '@chute/errors';

/** S3's limit: a key is at most 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** Checks an object key as S3 does; the key itself never becomes a path (see backend/paths.ts). */
export function checkKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', 'Object key must not be empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', undefined, {
      Size: String(Buffer.byteLength(key, 'utf8')),
      MaxSizeAllowed: String(MAX_KEY_BYTES),
    });
  }
  // A NUL cannot be represented in XML listings nor safely in most clients: refused outright.
  if (key.includes('\u0000')) throw new S3Error('InvalidArgument', 'Object key must not contain NUL');
  // Lone surrogates cannot be encoded as UTF-8 and would round-trip to U+FFFD.
  if (!key.isWellFormed()) throw new S3Error('InvalidURI');
}

/**
 * Compares two strings in the order of their UTF-8 bytes (S3's listing order) without encoding:
 * UTF-8 byte order equals code-point order, which differs from UTF-16 code-unit order only for
 * surrogates (U+10000..) versus U+E000..U+FFFF; the remap below fixes that case.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Index of the first element >= key in a sorted array (UTF-8 order). */
export function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(sorted[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * S3 bucket naming rules (general purpose buckets): 3–63 characters of lowercase letters,
 * digits, dots and hyphens; begins and ends with a letter or digit; no two adjacent dots;
 * not formatted as an IP address; not starting with `xn--`, `sthree-` or `amzn-s3-demo-`; not
 * ending with `-s3alias`, `--ol-s3`, `.mrap` or `--x-s3`.
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return false;
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3)$/.test(name)) return false;
  return true;
}
