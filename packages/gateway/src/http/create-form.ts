import { ChuteError } from '@chute/errors';
import { incomingKey, newUploadId } from '../domain/ids.ts';
import { formElement } from '../form/html.ts';
import { pageLink } from '../form/links.ts';
import { publicBase, renderForm } from '../form/render.ts';
import { ruleFingerprint } from '../rules/fingerprint.ts';
import { formTypes } from '../rules/form-conditions.ts';
import type { Services } from '../services.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { FormRequest } from './schemas.ts';
import { parseBody } from './validate.ts';

/**
 * POST /v1/forms — called by the app's backend with the user's bearer (JWT or API key): records a
 * form grant (quota reserved on the route's maxSize: the size is not known until the file is
 * chosen) and answers a signed link to the gateway's script-free form page, plus the same <form>
 * to embed. The return URL must be one the config lists exactly: never an open redirect.
 */
export function postForm(services: Services) {
  const { config, repo, clock } = services;
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const body = await parseBody(c, FormRequest);
    const secret = config.form.secret;
    if (secret === undefined) {
      throw new ChuteError('not_found', { message: 'Forms are not enabled (form.secret is not set).' });
    }
    const rule = config.routes.get(body.route);
    if (rule === undefined) throw new ChuteError('route_not_found', { message: `No route "${body.route}".` });
    if (body.returnUrl !== undefined && !config.form.returnUrls.includes(body.returnUrl)) {
      throw new ChuteError('invalid_request', {
        message: 'returnUrl is not one of the configured form.returnUrls.',
        details: { field: 'returnUrl' },
      });
    }
    if (rule.maxSize > 5 * 2 ** 30) {
      throw new ChuteError('invalid_request', {
        message: `Route "${rule.name}" allows files over 5 GiB, which one form POST cannot carry.`,
      });
    }
    const id = newUploadId();
    const upload = await repo.grants.insert(
      {
        id,
        userId: principal.userId,
        route: rule.name,
        ruleHash: ruleFingerprint(rule),
        method: 'post',
        incomingKey: incomingKey(principal.userId, id),
        filename: 'form-upload',
        // Placeholders until the file lands: /form/done sets both from storage.
        declaredType: formTypes(rule)[0] ?? 'application/octet-stream',
        declaredSize: rule.maxSize,
        expiresAt: clock() + rule.lifetimeMs,
        by: actorOf(c, principal),
      },
      config.quotas,
    );
    const base = publicBase(services, c.req.url);
    const link = pageLink(base, secret, { id, exp: upload.expiresAt, to: body.returnUrl });
    c.header('cache-control', 'no-store');
    return c.json(
      {
        id,
        url: link,
        html: formElement(renderForm(services, upload, rule, base, body.returnUrl)),
        expiresAt: new Date(upload.expiresAt).toISOString(),
      },
      201,
    );
  };
}
