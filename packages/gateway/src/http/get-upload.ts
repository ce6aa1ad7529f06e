import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { authenticate, type Ctx } from './context.ts';
import { toView } from './view.ts';

/** GET /v1/uploads/{id} — one upload: the owner's, or any for an admin. */
export function getUpload(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '');
    return c.json(toView(upload));
  };
}
