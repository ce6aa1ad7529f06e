import { ChuteError } from '@chute/errors';
import { ruleOf } from '../../lifecycle/rule-of.ts';
import type { Services } from '../../services.ts';
import type { Ctx } from '../context.ts';
import { signParts } from '../parts.ts';
import { assertOpen, companionCaller, companionUpload } from './access.ts';

/**
 * GET /v1/companion/{link}/s3/multipart/{uploadId}/{partNumber}?key= — one presigned UploadPart
 * URL, with the part's planned Content-Length signed (as POST /v1/uploads/{id}/parts signs them):
 * storage refuses a part of any other size. Part numbers outside the plan are refused.
 */
export function getCompanionPart(services: Services) {
  return async (c: Ctx) => {
    const caller = companionCaller(c, services);
    const upload = await companionUpload(services, c, caller);
    assertOpen(services, upload);
    const raw = c.req.param('partNumber') ?? '';
    const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      throw new ChuteError('invalid_request', {
        message: 'partNumber must be a whole number.',
        details: { field: 'partNumber' },
      });
    }
    const rule = await ruleOf(services, upload);
    const expires = Math.floor(rule.lifetimeMs / 1000);
    // signParts refuses a number outside 1…partCount (invalid_request, details.partCount).
    const [part] = signParts(services.storage, upload, n, 1, expires);
    c.header('cache-control', 'no-store');
    return c.json({ url: part!.url, expires });
  };
}
