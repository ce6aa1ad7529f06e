import { ChuteError } from '@chute/errors';
import type { z } from 'zod';
import type { Principal } from '../auth/principal.ts';
import type { Actor } from '../db/audit.ts';
import type { UploadMethod } from '../db/types.ts';
import { incomingKey, newUploadId } from '../domain/ids.ts';
import { MAX_LIFETIME_MS, MAX_SINGLE_UPLOAD } from '../rules/builder.ts';
import { checkDeclared } from '../rules/check.ts';
import { ruleFingerprint } from '../rules/fingerprint.ts';
import { MAX_PARTS, MIN_PART_BYTES, type PartPlan, planParts } from '../rules/parts.ts';
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

function multipartHeaders(rule: RouteRule, input: PutInput): Record<string, string> {
  const headers = putSignedHeaders(rule, input);
  delete headers['content-length'];
  return headers;
}

/**
 * POST /v1/grants — auth → route → declared type/size against the rule → reserve quota and record
 * the grant (one transaction) → sign exactly that upload for storage. Nothing is signed for an
 * anonymous caller, an unknown route, a refused declaration or an exceeded quota.
 */
export function postGrant(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const body = await parseBody(c, GrantRequest);
    const grant = await createGrant(services, principal, actorOf(c, principal), body);
    c.header('cache-control', 'no-store');
    return c.json(grant, 201);
  };
}

export interface GrantOptions {
  /**
   * A multipart plan cut by the client rather than by planParts: the Companion endpoints plan the
   * parts @uppy/aws-s3 cuts (it sends no part sizes, and each part URL signs its exact length).
   */
  partSize?: (size: number) => number;
}

/** The grant itself, for POST /v1/grants and for the adapters over it (companion/). */
export async function createGrant(
  services: Services,
  principal: Principal,
  by: Actor,
  body: z.output<typeof GrantRequest>,
  options: GrantOptions = {},
): Promise<z.input<typeof Grant>> {
  const { config, repo, storage, clock, metrics } = services;
  const rule = config.routes.get(body.route);
  if (rule === undefined) throw new ChuteError('route_not_found', { message: `No route "${body.route}".` });
  const declared = checkDeclared(rule, body);
  const method = chooseMethod(rule, body.method, declared.size);
  const plan = method === 'multipart' ? cutParts(declared.size, options) : undefined;

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
    plan !== undefined
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
          partSize: plan.partSize,
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
        by,
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
  if (multipart !== undefined && plan !== undefined) {
    const upload = { incomingKey: key, declaredSize: declared.size, ...multipart };
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
  return grant;
}

/** planParts, or the client's own cut where it makes one (still within S3's part rules). */
function cutParts(size: number, options: GrantOptions): PartPlan {
  if (options.partSize === undefined) return planParts(size);
  const partSize = options.partSize(size);
  const partCount = Math.ceil(size / partSize);
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_BYTES || partCount > MAX_PARTS) {
    throw new RangeError(`a part size of ${partSize} cannot cut ${size} bytes`);
  }
  return { partSize, partCount };
}
