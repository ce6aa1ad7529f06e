import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { authenticate, type Ctx } from './context.ts';

/** GET /v1/uploads/{id}/history — every state change, oldest first (owner, reviewers, admins). */
export function getHistory(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '', { reviewers: true });
    const entries = await services.repo.audit.forUpload(upload.id);
    c.header('cache-control', 'no-store');
    return c.json({
      items: entries.map((e) => ({
        at: new Date(e.at).toISOString(),
        action: e.action,
        actor: e.actor,
        actorRole: e.actorRole,
        ...(e.fromState !== null && { from: e.fromState }),
        to: e.toState,
        ...(e.requestId !== null && { requestId: e.requestId }),
        ...(e.detail !== null && { detail: e.detail }),
      })),
    });
  };
}
