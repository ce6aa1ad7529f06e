import { ChuteError } from '@chute/errors';
import type { Upload } from '../db/types.ts';
import { partBytes } from '../rules/parts.ts';
import type { Storage } from '../storage/types.ts';

/** Part URLs handed out per call: a browser signs nothing itself, so it asks again as it goes. */
export const MAX_PARTS_PER_CALL = 1000;
/** Part URLs in the grant itself: enough to start at full speed without a second round trip. */
export const PARTS_IN_GRANT = 100;

export interface SignedPart {
  number: number;
  /** The exact size this part must be: its Content-Length is signed. */
  size: number;
  url: string;
}

/** Presigned UploadPart URLs for parts `from … from+count-1` of a multipart upload. */
export function signParts(
  storage: Storage,
  upload: Pick<Upload, 'incomingKey' | 'multipartId' | 'partSize' | 'declaredSize'>,
  from: number,
  count: number,
  expiresIn: number,
): SignedPart[] {
  const { multipartId, partSize } = upload;
  if (multipartId === null || partSize === null) {
    throw new ChuteError('conflict', { message: 'This upload is not a multipart upload.' });
  }
  const total = Math.ceil(upload.declaredSize / partSize);
  if (!Number.isSafeInteger(from) || from < 1 || from > total) {
    throw new ChuteError('invalid_request', {
      message: `from must be a part number 1–${total}.`,
      details: { field: 'from', partCount: total },
    });
  }
  const last = Math.min(total, from + Math.max(1, Math.min(count, MAX_PARTS_PER_CALL)) - 1);
  const parts: SignedPart[] = [];
  for (let n = from; n <= last; n++) {
    const size = partBytes(upload.declaredSize, partSize, n);
    parts.push({
      number: n,
      size,
      url: storage.presignPart({
        key: upload.incomingKey,
        uploadId: multipartId,
        partNumber: n,
        size,
        expiresIn,
      }),
    });
  }
  return parts;
}
