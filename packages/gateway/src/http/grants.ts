import { ChuteError } from '@chute/errors';
import type { z } from 'zod';
import { incomingKey, newUploadId } from '../domain/ids.ts';
import { checkDeclared } from '../rules/check.ts';
import { ruleFingerprint } from '../rules/fingerprint.ts';
import { postConditions, postFields } from '../rules/post-conditions.ts';
import { putSignedHeaders } from '../rules/put-headers.ts';
import type { Services } from '../services.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { type Grant, GrantRequest } from './schemas.ts';
import { parseBody } from './validate.ts';

/**
 * POST /v1/grants — auth → route → declared type/size against the rule → reserve quota and record
 * the grant (one transaction) → sign exactly that upload for storage. Nothing is signed for an
 * anonymous caller, an unknown route, a refused declaration or an exceeded quota.
 */
export function postGrant(services: Services) {
  const { config, repo, storage, clock, metrics } = services;
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const body = await parseBody(c, GrantRequest);
    const rule = config.routes.get(body.route);
    if (rule === undefined) throw new ChuteError('route_not_found', { message: `No route "${body.route}".` });
    const declared = checkDeclared(rule, body);
    const method = body.method ?? rule.method;

    // Server-chosen and random: no part of the key comes from the request.
    const id = newUploadId();
    const key = incomingKey(principal.userId, id);
    const now = clock();
    const expiresAt = now + rule.lifetimeMs;
    await repo.grants.insert(
      {
        id,
        userId: principal.userId,
        route: rule.name,
        ruleHash: ruleFingerprint(rule),
        method,
        incomingKey: key,
        filename: declared.filename,
        declaredType: declared.contentType,
        declaredSize: declared.size,
        checksum: declared.checksum,
        expiresAt,
        by: actorOf(c, principal),
      },
      config.quotas,
    );

    const expiresIn = Math.floor(rule.lifetimeMs / 1000);
    const signed = {
      uploadId: id,
      userId: principal.userId,
      contentType: declared.contentType,
      size: declared.size,
    };
    let grant: z.input<typeof Grant>;
    const common = {
      id,
      key,
      expiresAt: new Date(expiresAt).toISOString(),
      serverTime: new Date(now).toISOString(),
    };
    if (method === 'post') {
      const conditions = postConditions(rule, { ...signed, bucket: storage.bucket, key });
      const form = storage.postForm({ key, conditions, fields: postFields(conditions), expiresIn });
      grant = { ...common, method, url: form.url, fields: form.fields };
    } else {
      const headers = putSignedHeaders(rule, { ...signed, checksum: declared.checksum });
      grant = { ...common, method, url: storage.presignPut({ key, headers, expiresIn }), headers };
    }
    metrics.grants.inc({ route: rule.name, method });
    c.header('cache-control', 'no-store');
    return c.json(grant, 201);
  };
}
