import { requireRole } from '../auth/principal.ts';
import type { UploadState } from '../db/types.ts';
import { ruleOf } from '../lifecycle/rule-of.ts';
import type { Services } from '../services.ts';
import { authenticate, type Ctx } from './context.ts';
import { previewOf } from './preview.ts';
import { ReviewQuery } from './schemas.ts';
import { check } from './validate.ts';

const STATES: Record<'pending' | 'approved' | 'rejected', UploadState> = {
  pending: 'pending_review',
  approved: 'approved',
  rejected: 'rejected',
};

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * GET /v1/reviews?state=pending&cursor=&limit= — the review queue (reviewers and admins), oldest
 * verified first, each item with a short-lived preview link. Uploaders get 403: the queue shows
 * everyone's files.
 */
export function listReviews(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    requireRole(principal, 'reviewer');
    const q = check(ReviewQuery, c.req.query());
    const page = await services.repo.uploads.queue({
      states: [STATES[q.state]],
      cursor: q.cursor,
      limit: q.limit,
    });
    const items = [];
    for (const u of page.items) {
      const rule = await ruleOf(services, u).catch(() => undefined);
      const preview = previewOf(services.storage, u);
      items.push({
        id: u.id,
        owner: u.userId,
        route: u.route,
        filename: u.filename,
        declaredType: u.declaredType,
        detectedType: u.detectedType ?? u.declaredType,
        size: u.size ?? u.declaredSize,
        ...(u.width !== null && { width: u.width }),
        ...(u.height !== null && { height: u.height }),
        state: u.state,
        createdAt: iso(u.createdAt),
        verifiedAt: iso(u.completedAt ?? u.updatedAt),
        reasons: [...(rule?.rejectReasons ?? [])],
        ...(preview !== undefined && { preview }),
      });
    }
    c.header('cache-control', 'no-store');
    return c.json({ items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) });
  };
}
