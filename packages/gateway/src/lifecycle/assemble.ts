import { ChuteError } from '@chute/errors';
import type { Upload } from '../db/types.ts';
import { partBytes } from '../rules/parts.ts';
import type { Storage, StoredPart } from '../storage/types.ts';

/** A part as a client says it sent it (the part list of CompleteMultipartUpload). */
export interface ClientPart {
  number: number;
  etag: string;
}

const unquote = (etag: string) => etag.replace(/^"|"$/g, '');

/**
 * Turns a multipart upload's parts into the object, from what storage lists — never from what the
 * client says (docs/compat.md: a client's ETag list is only checked against storage's). Every
 * planned part must be there at its planned size; a client list that disagrees with storage is
 * refused. Problems the client can fix (a part missing or of the wrong size) answer 409 and keep
 * the grant usable. An upload storage no longer has was completed by an earlier attempt (or
 * aborted): verification then finds the object, or nothing.
 */
export async function assembleParts(
  storage: Storage,
  upload: Upload,
  client: readonly ClientPart[] | undefined,
): Promise<void> {
  const { multipartId, partSize } = upload;
  if (multipartId === null || partSize === null) return;
  const stored = await storage.listParts(upload.incomingKey, multipartId);
  if (stored === undefined) return;
  const count = Math.ceil(upload.declaredSize / partSize);
  const byNumber = new Map(stored.map((p) => [p.number, p]));
  const missing: number[] = [];
  const plan: StoredPart[] = [];
  for (let n = 1; n <= count; n++) {
    const p = byNumber.get(n);
    if (p === undefined) {
      missing.push(n);
      continue;
    }
    const want = partBytes(upload.declaredSize, partSize, n);
    if (p.size !== want) {
      throw new ChuteError('conflict', {
        message: `Part ${n} is ${p.size} bytes; the plan says ${want}. Upload it again.`,
        details: { part: n, size: p.size, expected: want },
      });
    }
    plan.push(p);
  }
  if (missing.length > 0) {
    throw new ChuteError('conflict', {
      message: `${missing.length} of ${count} parts are not uploaded yet (first: ${missing.slice(0, 5).join(', ')}).`,
      details: { missing: missing.slice(0, 100), partCount: count },
    });
  }
  if (client !== undefined) {
    if (client.length !== count) {
      throw new ChuteError('invalid_request', {
        message: `The part list names ${client.length} parts; the upload has ${count}.`,
        details: { field: 'parts' },
      });
    }
    for (const c of client) {
      const p = byNumber.get(c.number);
      if (p === undefined || c.number > count || unquote(p.etag) !== unquote(c.etag)) {
        throw new ChuteError('invalid_request', {
          message: `Part ${c.number}: its ETag is not the one storage holds.`,
          details: { field: 'parts', part: c.number },
        });
      }
    }
  }
  await storage.completeMultipart(upload.incomingKey, multipartId, plan);
}
