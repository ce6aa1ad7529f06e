import { ChuteError } from '@chute/errors';
import type { Services } from '../../services.ts';
import type { Ctx } from '../context.ts';
import { parseBody } from '../validate.ts';
import { toView } from '../view.ts';
import { companionCaller, companionUpload, gatewayBase } from './access.ts';
import { CompleteMultipartRequest } from './schemas.ts';

/** Up to 10,000 `{PartNumber, ETag}` (as POST /v1/uploads/{id}/complete allows). */
const MAX_BODY_BYTES = 10_000 * 256;

/**
 * POST /v1/companion/{link}/s3/multipart/{uploadId}/complete?key= — the gateway's complete: the
 * parts assembled from what storage lists (Uppy's ETag list is checked against it, never
 * trusted), then verify → freeze. Uppy counts the file uploaded only on a 2xx, so a rejected file
 * is an error here (upload_rejected, with the reason), not the 200 of the API's complete.
 * Answers Companion's `{location, key}`: location is the upload in the API.
 */
export function postCompanionComplete(services: Services) {
  return async (c: Ctx) => {
    const caller = companionCaller(c, services);
    const upload = await companionUpload(services, c, caller);
    const body = await parseBody(c, CompleteMultipartRequest, MAX_BODY_BYTES);
    const parts = body.parts.map((p) => ({ number: p.PartNumber, etag: p.ETag }));
    const done = await services.completer.complete(upload, caller.by, parts);
    if (done.state === 'rejected') {
      throw new ChuteError('upload_rejected', {
        message: `The file was refused: ${done.reason}.`,
        details: { reason: done.reason, uploadId: done.id },
      });
    }
    if (done.state === 'withdrawn') {
      throw new ChuteError('conflict', {
        message: 'The upload was cancelled.',
        details: { state: done.state },
      });
    }
    const base = gatewayBase(services, c.req.url);
    c.header('cache-control', 'no-store');
    return c.json({
      location: `${base}/v1/uploads/${done.id}`,
      key: upload.incomingKey,
      upload: toView(done),
    });
  };
}
