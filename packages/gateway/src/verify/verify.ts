import type { RejectionReason } from '@chute/errors';
import type { Upload } from '../db/types.ts';
import { essence, typeAllowed } from '../rules/mime.ts';
import type { RouteRule } from '../rules/rule.ts';
import type { ObjectHead, Storage } from '../storage/types.ts';
import { streamSha256 } from './checksum.ts';
import { imageDimensions } from './image.ts';
import { canonicalType, SNIFF_BYTES, sniff } from './sniff.ts';

export interface Verified {
  ok: true;
  head: ObjectHead;
  /** The type read from the bytes (or the declared text type when it has no signature). */
  detectedType: string;
  width: number | undefined;
  height: number | undefined;
  /** How the checksum was checked, when one was declared. */
  checksum: 'storage' | 'streamed' | undefined;
}

export interface Rejected {
  ok: false;
  reason: RejectionReason;
  /** For the log: what was found. Not sent to clients. */
  detail: string;
}

const reject = (reason: RejectionReason, detail: string): Rejected => ({ ok: false, reason, detail });

/**
 * Re-checks the route's rule against the object as stored: storage enforced what was signed, but
 * a signature cannot say what the bytes are. Reads one HEAD and one 4100-byte range (more only
 * for a JPEG with a late frame header, or a streamed checksum): never the whole file otherwise.
 */
export async function verifyObject(
  storage: Storage,
  upload: Upload,
  rule: RouteRule,
): Promise<Verified | Rejected> {
  const key = upload.incomingKey;
  const head = await storage.head(key, { checksum: upload.checksum !== null });
  if (head === undefined) return reject('missing', 'no object at the incoming key');

  if (head.size !== upload.declaredSize) {
    // Storage held the upload to the declared size; a different size means another writer.
    if (head.size > rule.maxSize) return reject('too_large', `size ${head.size} > ${rule.maxSize}`);
    if (head.size < rule.minSize) return reject('too_small', `size ${head.size} < ${rule.minSize}`);
    return reject('size_mismatch', `size ${head.size}, declared ${upload.declaredSize}`);
  }

  // The object must name this upload and user: otherwise an object written under another
  // grant (or by a storage credential) could be passed off as this upload.
  if (head.metadata['upload-id'] !== upload.id || head.metadata['user-id'] !== upload.userId) {
    return reject('metadata_mismatch', `upload-id/user-id metadata ${JSON.stringify(head.metadata)}`);
  }
  for (const [k, v] of Object.entries(rule.metadata)) {
    if (head.metadata[k] !== v) return reject('metadata_mismatch', `metadata ${k}`);
  }

  const declared = canonicalType(essence(upload.declaredType) ?? upload.declaredType);
  const stored = head.contentType === undefined ? undefined : essence(head.contentType);
  if (stored === undefined || canonicalType(stored) !== declared) {
    return reject(
      'type_mismatch',
      `stored Content-Type ${head.contentType}, declared ${upload.declaredType}`,
    );
  }

  // The declared type proves nothing: read the bytes' own (magic numbers in the first 4100 bytes).
  const sample =
    head.size === 0 ? Buffer.alloc(0) : await storage.getRange(key, 0, Math.min(SNIFF_BYTES, head.size) - 1);
  const sniffed = await sniff(sample, declared);
  let detectedType: string;
  if (sniffed.kind === 'detected') {
    detectedType = sniffed.type;
    if (canonicalType(detectedType) !== declared) {
      return typeAllowed(detectedType, rule.types)
        ? reject('type_mismatch', `bytes are ${detectedType}, declared ${declared}`)
        : reject('type_not_allowed', `bytes are ${detectedType}`);
    }
  } else if (sniffed.kind === 'text' || sniffed.kind === 'opaque') {
    detectedType = declared;
  } else {
    return reject('type_mismatch', `bytes match no known signature, declared ${declared}`);
  }

  let width: number | undefined;
  let height: number | undefined;
  if (detectedType.startsWith('image/')) {
    const limits = rule.image;
    const dims = await imageDimensions(detectedType, sample, head.size, (s, e) =>
      storage.getRange(key, s, e),
    );
    if (dims === undefined) {
      if (limits !== undefined) return reject('image_unreadable', `no dimensions in ${detectedType}`);
    } else {
      ({ width, height } = dims);
      if (
        limits !== undefined &&
        ((limits.maxWidth !== undefined && dims.width > limits.maxWidth) ||
          (limits.maxHeight !== undefined && dims.height > limits.maxHeight))
      ) {
        return reject('image_too_large', `${dims.width}x${dims.height}`);
      }
    }
  }

  let checksum: Verified['checksum'];
  if (upload.checksum !== null) {
    // Storage's own SHA-256 (kept when the PUT signed x-amz-checksum-sha256) is trusted; with
    // none, the object is streamed through a hash.
    const actual = head.checksumSha256 ?? (await streamSha256(storage, key));
    checksum = head.checksumSha256 !== undefined ? 'storage' : 'streamed';
    if (actual !== upload.checksum) return reject('checksum_mismatch', `sha256 ${actual}`);
  }

  return { ok: true, head, detectedType, width, height, checksum };
}
