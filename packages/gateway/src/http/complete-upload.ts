import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { CompleteRequest } from './schemas.ts';
import { parseBody } from './validate.ts';

/**
 * A multipart client's part list: up to 10,000 `{number, etag}` (CompleteRequest), some 60 bytes
 * each as S3 writes ETags — 16 KiB, the limit for other bodies, holds only ~270 of them (a 4.3 GiB
 * upload in 16 MiB parts). Room for 10,000 with long ETags.
 */
const MAX_COMPLETE_JSON_BYTES = 10_000 * 256;

import { toView } from './view.ts';

/**
 * POST /v1/uploads/{id}/complete — verify the stored object, then freeze it. Idempotent: a
 * repeated call answers with the recorded outcome; a rejection is an answer (200, state
 * `rejected` with a reason), not an error. Someone else's upload is not_found.
 */
export function postComplete(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '');
    // A body is optional: multipart clients may send their part list (checked, never trusted).
    const hasBody =
      Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
    const body = hasBody ? await parseBody(c, CompleteRequest, MAX_COMPLETE_JSON_BYTES) : {};
    const done = await services.completer.complete(upload, actorOf(c, principal), body.parts);
    return c.json(toView(done), 200);
  };
}
