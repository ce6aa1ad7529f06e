import { ChuteError } from '@chute/errors';
import type { Services } from '../../services.ts';
import { authenticate, type Ctx } from '../context.ts';
import { parseBody } from '../validate.ts';
import { companionSecret, gatewayBase } from './access.ts';
import { signCompanionLink } from './link.ts';
import { LINK_TTL_DEFAULT_SEC, LinkRequest } from './schemas.ts';

/**
 * POST /v1/companion — for the app's frontend (with the user's token) or backend: the
 * `companionEndpoint` to give @uppy/aws-s3, for this user and one route. The route is checked
 * now (it must exist and take multipart uploads) so a misconfigured page fails here, not mid-file.
 */
export function postCompanionLink(services: Services) {
  return async (c: Ctx) => {
    const secret = companionSecret(services);
    const principal = await authenticate(c, services);
    const body = await parseBody(c, LinkRequest);
    const rule = services.config.routes.get(body.route);
    if (rule === undefined) throw new ChuteError('route_not_found', { message: `No route "${body.route}".` });
    if (rule.multipart === undefined) {
      throw new ChuteError('invalid_request', {
        message: `Route "${rule.name}" does not take multipart uploads, and Uppy uploads to Chute only by multipart (docs/uppy.md).`,
        details: { field: 'route' },
      });
    }
    // A link is a credential derived from the caller's: it ends when their token does, whatever
    // ttl was asked for (a backend with an API key, which does not expire, can mint longer ones).
    const exp = Math.min(
      services.clock() + (body.ttl ?? LINK_TTL_DEFAULT_SEC) * 1000,
      principal.expiresAt ?? Number.POSITIVE_INFINITY,
    );
    const link = signCompanionLink(secret, {
      userId: principal.userId,
      role: principal.role,
      route: rule.name,
      exp,
    });
    const base = gatewayBase(services, c.req.url);
    c.header('cache-control', 'no-store');
    return c.json(
      {
        companionEndpoint: `${base}/v1/companion/${link}`,
        route: rule.name,
        expiresAt: new Date(exp).toISOString(),
      },
      201,
    );
  };
}
