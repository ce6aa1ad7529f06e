import { visibleUpload } from './access.ts';
import { type Api, authenticate, type Ctx } from './env.ts';
import { toView } from './view.ts';

/**
 * POST /v1/uploads/{id}/complete — verify the stored object, then freeze it. Idempotent: a
 * repeated call answers with the recorded outcome; a rejection is an answer (200, state
 * `rejected` with a reason), not an error. Someone else's upload is not_found.
 */
export function postComplete(api: Api) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, api);
    const upload = await visibleUpload(api, principal, c.req.param('id') ?? '');
    const done = await api.completer.complete(upload);
    return c.json(toView(done), 200);
  };
}
