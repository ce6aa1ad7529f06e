import { ChuteError } from '@chute/errors';
import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { toView } from './view.ts';

/**
 * DELETE /v1/uploads/{id} — the owner cancels an upload not yet completed: a multipart upload is
 * aborted on storage (its parts freed), anything already at the incoming key deleted, and the
 * grant becomes `withdrawn` (its quota released). Completed or settled uploads → 409.
 */
export function deleteUpload(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '');
    if (upload.userId !== principal.userId) {
      throw new ChuteError('forbidden', { message: 'Only the owner can cancel an upload.' });
    }
    const done = await services.reviews.cancel(upload, actorOf(c, principal));
    return c.json(toView(done), 200);
  };
}
