import { visibleUpload } from './access.ts';
import { type Api, authenticate, type Ctx } from './env.ts';
import { toView } from './view.ts';

/** GET /v1/uploads/{id} — one upload: the owner's, or any for an admin. */
export function getUpload(api: Api) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, api);
    const upload = await visibleUpload(api, principal, c.req.param('id') ?? '');
    return c.json(toView(upload));
  };
}
