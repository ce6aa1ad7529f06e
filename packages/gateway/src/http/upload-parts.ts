import { ChuteError } from '@chute/errors';
import type { Upload } from '../db/types.ts';
import { ruleOf } from '../lifecycle/rule-of.ts';
import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { authenticate, type Ctx } from './context.ts';
import { MAX_PARTS_PER_CALL, signParts } from './parts.ts';
import { PartsQuery } from './schemas.ts';
import { check } from './validate.ts';

/** The caller's own multipart upload that is still being uploaded; anything else is refused. */
async function ownMultipart(services: Services, c: Ctx): Promise<Upload> {
  const principal = await authenticate(c, services);
  const upload = await visibleUpload(services, principal, c.req.param('id') ?? '');
  if (upload.userId !== principal.userId) throw new ChuteError('not_found');
  if (upload.multipartId === null || upload.partSize === null) {
    throw new ChuteError('conflict', {
      message: 'This upload is not a multipart upload.',
      details: { state: upload.state },
    });
  }
  if (upload.state !== 'granted') {
    throw new ChuteError('conflict', {
      message: `The upload is ${upload.state}; its parts are closed.`,
      details: { state: upload.state },
    });
  }
  if (services.clock() > upload.expiresAt) throw new ChuteError('grant_expired');
  return upload;
}

/**
 * POST /v1/uploads/{id}/parts?from=&count= — part URLs signed again (they live the route's grant
 * lifetime; a multipart upload may take longer). Each signs its part's exact Content-Length.
 */
export function postParts(services: Services) {
  return async (c: Ctx) => {
    const upload = await ownMultipart(services, c);
    const q = check(PartsQuery, c.req.query());
    const rule = await ruleOf(services, upload);
    const expiresIn = Math.floor(rule.lifetimeMs / 1000);
    const parts = signParts(services.storage, upload, q.from, q.count ?? MAX_PARTS_PER_CALL, expiresIn);
    c.header('cache-control', 'no-store');
    const now = services.clock();
    return c.json({
      parts,
      expiresAt: new Date(now + rule.lifetimeMs).toISOString(),
      serverTime: new Date(now).toISOString(),
    });
  };
}

/**
 * GET /v1/uploads/{id}/parts — what storage already holds, so a client that crashed or reloaded
 * sends only the rest. Read from storage (ListParts), never from what a client said it sent.
 */
export function getParts(services: Services) {
  return async (c: Ctx) => {
    const upload = await ownMultipart(services, c);
    const stored = (await services.storage.listParts(upload.incomingKey, upload.multipartId!)) ?? [];
    c.header('cache-control', 'no-store');
    return c.json({
      partSize: upload.partSize!,
      partCount: Math.ceil(upload.declaredSize / upload.partSize!),
      parts: stored.map((p) => ({ number: p.number, size: p.size, etag: p.etag })),
    });
  };
}
