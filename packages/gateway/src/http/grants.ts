import { ChuteError } from '@chute/errors';
import type { z } from 'zod';
import type { UploadMethod } from '../db/types.ts';
import { incomingKey, newUploadId } from '../domain/ids.ts';
import { MAX_LIFETIME_MS, MAX_SINGLE_UPLOAD } from '../rules/builder.ts';
import { checkDeclared } from '../rules/check.ts';
import { ruleFingerprint } from '../rules/fingerprint.ts';
import { planParts } from '../rules/parts.ts';
import { postConditions, postFields } from '../rules/post-conditions.ts';
import { type PutInput, putSignedHeaders } from '../rules/put-headers.ts';
import type { RouteRule } from '../rules/rule.ts';
import type { Services } from '../services.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { PARTS_IN_GRANT, signParts } from './parts.ts';
import { type Grant, GrantRequest } from './schemas.ts';
import { parseBody } from './validate.ts';

/**
 * The client's choice when it made one (multipart only where the route allows it); otherwise
 * multipart above the route's threshold, else the route's transport. Above 5 GiB nothing but
 * multipart can carry the file.
 */
function chooseMethod(rule: RouteRule, asked: UploadMethod | undefined, size: number): UploadMethod {
  if (asked === 'multipart' && rule.multipart === undefined) {
    throw new ChuteError('invalid_request', {
      message: `Route "${rule.name}" does not take multipart uploads.`,
      details: { field: 'method' },
    });
  }
  const method =
    asked ?? (rule.multipart !== undefined && size > rule.multipart.threshold ? 'multipart' : rule.method);
  if (method !== 'multipart' && size > MAX_SINGLE_UPLOAD) {
    throw new ChuteError('too_large', {
      message: 'Files over 5 GiB need a multipart upload (method "multipart").',
      details: { maxSize: MAX_SINGLE_UPLOAD },
    });
  }
  return method;
}

/**
 * POST /v1/grants — auth → route → declared type/size against the rule → reserve quota and record
 * the grant (one transaction) → sign exactly that upload for storage. Nothing is signed for an
 * anonymous caller, an unknown route, a refused declaration or an exceeded quota.
 */
function multipartHeaders(rule: RouteRule, input: PutInput): Record<string, string> {
  const headers = putSignedHeaders(rule, input);
  delete headers['content-length'];
  return headers;
}

export function postGrant(services: Services) {
  const { config, repo, storage, clock, metrics } = services;
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const body = await parseBody(c, GrantRequest);
    const rule = config.routes.get(body.route);
    if (rule === undefined) throw new ChuteError('route_not_found', { message: `No route "${body.route}".` });
    const declared = checkDeclared(rule, body);
    const method = chooseMethod(rule, body.method, declared.size);

    // Server-chosen and random: no part of the key comes from the request.
    const id = newUploadId();
    const key = incomingKey(principal.userId, id);
    const now = clock();
    // A multipart upload may take hours: its deadline is the longest grant lifetime, while each
    // part URL lives the route's lifetime and is signed again on request (POST …/parts).
    const expiresAt = now + (method === 'multipart' ? MAX_LIFETIME_MS : rule.lifetimeMs);
    // Started on storage before the grant is recorded, so the row carries its id; a grant the
    // quota then refuses aborts it at once (and the sweeper aborts any such upload left behind).
    // The object gets the headers a PUT grant would sign, but Content-Length (parts carry theirs).
    const multipart =
      method === 'multipart'
        ? {
            multipartId: await storage.createMultipart(
              key,
              multipartHeaders(rule, {
                uploadId: id,
                userId: principal.userId,
                contentType: declared.contentType,
                size: declared.size,
              }),
            ),
            partSize: planParts(declared.size).partSize,
          }
        : undefined;
    await repo.grants
      .insert(
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
          ...multipart,
        },
        config.quotas,
      )
      .catch(async (e: unknown) => {
        if (multipart !== undefined) await storage.abortMultipart(key, multipart.multipartId).catch(() => {});
        throw e;
      });

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
    if (multipart !== undefined) {
      const upload = { incomingKey: key, declaredSize: declared.size, ...multipart };
      const plan = planParts(declared.size);
      grant = {
        ...common,
        method,
        url: storage.objectUrl(key),
        uploadId: multipart.multipartId,
        partSize: plan.partSize,
        partCount: plan.partCount,
        parts: signParts(storage, upload, 1, PARTS_IN_GRANT, expiresIn),
        partsExpireAt: new Date(now + rule.lifetimeMs).toISOString(),
      };
    } else if (method === 'post') {
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
