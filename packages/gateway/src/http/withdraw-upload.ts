import { ChuteError } from '@chute/errors';
import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { toView } from './view.ts';

/**
 * POST /v1/uploads/{id}/withdraw — the owner takes back an upload waiting for review; its frozen
 * copy is deleted. Only the owner: an admin or reviewer who can see it gets 403, anyone else 404.
 * Not pending review any more → 409 with the current state.
 */
export function postWithdraw(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '', { reviewers: true });
    if (upload.userId !== principal.userId) {
      throw new ChuteError('forbidden', { message: 'Only the owner can withdraw an upload.' });
    }
    const done = await services.reviews.withdraw(upload, actorOf(c, principal));
    return c.json(toView(done), 200);
  };
}
