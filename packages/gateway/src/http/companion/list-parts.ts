import type { Services } from '../../services.ts';
import type { Ctx } from '../context.ts';
import { assertOpen, companionCaller, companionUpload } from './access.ts';

/**
 * GET /v1/companion/{link}/s3/multipart/{uploadId}?key= — the parts storage holds (Uppy resumes
 * from them), read from storage's ListParts, never from what a client said it sent. Companion's
 * answer: S3's own field names.
 */
export function getCompanionParts(services: Services) {
  return async (c: Ctx) => {
    const caller = companionCaller(c, services);
    const upload = await companionUpload(services, c, caller);
    assertOpen(services, upload);
    const stored = (await services.storage.listParts(upload.incomingKey, upload.multipartId!)) ?? [];
    c.header('cache-control', 'no-store');
    return c.json(stored.map((p) => ({ PartNumber: p.number, Size: p.size, ETag: p.etag })));
  };
}
