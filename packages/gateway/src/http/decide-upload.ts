import { requireRole } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { DecisionRequest } from './schemas.ts';
import { parseBody } from './validate.ts';
import { toView } from './view.ts';

/**
 * POST /v1/uploads/{id}/decision — a reviewer approves (the file is published) or rejects with a
 * reason from the route's list. Once per upload: a second decision, or the losing one of two at
 * once, is 409 with the current state in `details.state`. Uploaders get 403.
 */
export function postDecision(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    requireRole(principal, 'reviewer');
    const body = await parseBody(c, DecisionRequest);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '', { reviewers: true });
    const done = await services.reviews.decide(upload, body, actorOf(c, principal));
    return c.json(toView(done), 200);
  };
}
