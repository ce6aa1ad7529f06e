import { hasRole } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import { authenticate, type Ctx } from './context.ts';
import { ListQuery } from './schemas.ts';
import { check } from './validate.ts';
import { toView } from './view.ts';

/** GET /v1/uploads?state=a,b&cursor=…&limit=… — the caller's uploads (everyone's for an admin), newest first. */
export function listUploads(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const q = check(ListQuery, c.req.query());
    const page = await services.repo.uploads.list({
      userId: hasRole(principal, 'admin') ? undefined : principal.userId,
      states: q.state,
      cursor: q.cursor,
      limit: q.limit,
    });
    return c.json({
      items: page.items.map(toView),
      ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
    });
  };
}
