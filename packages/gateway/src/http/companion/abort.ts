import type { Services } from '../../services.ts';
import type { Ctx } from '../context.ts';
import { companionCaller, companionUpload } from './access.ts';

/**
 * DELETE /v1/companion/{link}/s3/multipart/{uploadId}?key= — Uppy's cancel: the gateway's cancel
 * (the grant withdrawn, its quota released, the multipart upload aborted on storage). Completed
 * uploads → 409, as DELETE /v1/uploads/{id}. Companion answers `{}`.
 */
export function deleteCompanionMultipart(services: Services) {
  return async (c: Ctx) => {
    const caller = companionCaller(c, services);
    const upload = await companionUpload(services, c, caller);
    await services.reviews.cancel(upload, caller.by);
    return c.json({});
  };
}
