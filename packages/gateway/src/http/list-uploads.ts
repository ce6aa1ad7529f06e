import { hasRole } from '../auth/principal.ts';
import { type Api, authenticate, type Ctx } from './env.ts';
import { ListQuery } from './schemas.ts';
import { check } from './validate.ts';
import { toView } from './view.ts';

/** GET /v1/uploads?state=a,b&cursor=…&limit=… — the caller's uploads (everyone's for an admin), newest first. */
export function listUploads(api: Api) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, api);
    const q = check(ListQuery, c.req.query());
    const page = await api.repo.listUploads({
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
