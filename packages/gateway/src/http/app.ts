import { ChuteError, toChuteError, toJson } from '@chute/errors';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { routePath } from 'hono/route';
import { randomBase62 } from '../domain/ids.ts';
import { mountForms } from '../form/routes.ts';
import type { Services } from '../services.ts';
import { deleteUpload } from './cancel-upload.ts';
import { deleteCompanionMultipart } from './companion/abort.ts';
import { postCompanionComplete } from './companion/complete.ts';
import { postCompanionLink } from './companion/create-link.ts';
import { postCompanionMultipart } from './companion/create-multipart.ts';
import { redactLinkPath } from './companion/link.ts';
import { getCompanionParts } from './companion/list-parts.ts';
import { getCompanionParams } from './companion/params.ts';
import { getCompanionPart } from './companion/sign-part.ts';
import { postComplete } from './complete-upload.ts';
import type { Ctx, Env } from './context.ts';
import { postForm } from './create-form.ts';
import { postDecision } from './decide-upload.ts';
import { getDownload } from './download.ts';
import { ENDPOINTS } from './endpoints.ts';
import { getUpload } from './get-upload.ts';
import { postGrant } from './grants.ts';
import { listReviews } from './list-reviews.ts';
import { listUploads } from './list-uploads.ts';
import { getOpenApi, honoPath } from './openapi.ts';
import { getHealth, getMetrics } from './ops.ts';
import { putContent } from './put-content.ts';
import { getHistory } from './upload-history.ts';
import { getParts, postParts } from './upload-parts.ts';
import { postWithdraw } from './withdraw-upload.ts';

/** A client's own request id is kept when it is short and plain (it lands in logs). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

const HANDLERS: Record<string, (services: Services) => (c: Ctx) => Promise<Response> | Response> = {
  createGrant: postGrant,
  completeUpload: postComplete,
  getUpload,
  listUploads,
  downloadFile: getDownload,
  listReviews,
  decideUpload: postDecision,
  withdrawUpload: postWithdraw,
  getUploadHistory: getHistory,
  signParts: postParts,
  listStoredParts: getParts,
  cancelUpload: deleteUpload,
  putUploadContent: putContent,
  createForm: postForm,
  openapi: () => getOpenApi(),
  createCompanionLink: postCompanionLink,
  companionParams: getCompanionParams,
  companionCreateMultipart: postCompanionMultipart,
  companionListParts: getCompanionParts,
  companionSignPart: getCompanionPart,
  companionComplete: postCompanionComplete,
  companionAbort: deleteCompanionMultipart,
};

/** The API as a fetch-style app: `app.fetch(request)`, or `app.request(path)` in tests. */
export function buildApp(services: Services): Hono<Env> {
  const app = new Hono<Env>();
  const { logger, metrics } = services;

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId =
      incoming !== undefined && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomBase62(16);
    c.set('requestId', requestId);
    c.set('principal', undefined);
    const started = performance.now();
    await next();
    // On the response's headers directly: c.header() after the handler has answered rebuilds the
    // whole Response (and @hono/node-server then loses its fast path for string bodies), which
    // was ~15% of a grant's CPU.
    c.res.headers.set('x-request-id', requestId);
    const ms = performance.now() - started;
    const route = routePath(c, -1);
    metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, ms / 1000);
    // Never the query or headers: query strings may one day carry tokens; headers carry them now.
    // Nor a Companion link: the path is its credential.
    logger.info(
      {
        requestId,
        method: c.req.method,
        path: redactLinkPath(c.req.path),
        route,
        status: c.res.status,
        ms: Math.round(ms * 10) / 10,
        userId: c.get('principal')?.userId,
      },
      'request',
    );
  });

  // A web app's frontend on another origin calls the API itself (grant, complete) with the user's
  // bearer token: answer its preflights and let it read our ids and retry hints.
  const origins = services.config.cors.origins;
  if (origins.length > 0) {
    app.use(
      '/v1/*',
      cors({
        origin: origins.includes('*') ? '*' : [...origins],
        // DELETE: cancelling an upload (DELETE /v1/uploads/{id}, Uppy's abort) from the page too.
        allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
        allowHeaders: ['authorization', 'content-type', 'x-api-key', 'x-request-id'],
        exposeHeaders: ['x-request-id', 'retry-after', 'location'],
        maxAge: services.config.cors.maxAgeSec,
      }),
    );
  }

  for (const e of ENDPOINTS) {
    const handler = HANDLERS[e.operationId];
    if (handler === undefined) throw new Error(`no handler for ${e.operationId}`);
    app.on(e.method.toUpperCase(), honoPath(e.path), handler(services));
  }
  mountForms(app, services);
  app.get('/healthz', getHealth(services));
  app.get('/metrics', getMetrics(services));

  // A known path with another method is 405 with Allow, not 404: the client has the URL right.
  const patterns = ENDPOINTS.map((e) => ({
    re: new RegExp(`^${e.path.replace(/\{\w+\}/g, '[^/]+')}$`),
    method: e.method.toUpperCase(),
  }));
  app.notFound((c) => {
    const allowed = patterns.filter((p) => p.re.test(c.req.path)).map((p) => p.method);
    if (allowed.length > 0) {
      const e = new ChuteError('method_not_allowed', { headers: { allow: allowed.join(', ') } });
      return errorResponse(c as Ctx, e, services);
    }
    return errorResponse(c as Ctx, new ChuteError('not_found', { message: 'No such endpoint.' }), services);
  });
  app.onError((err, c) => errorResponse(c as Ctx, err, services));
  return app;
}

/** The one place an error becomes a response: registry status, JSON body, x-request-id, extra headers. */
function errorResponse(c: Ctx, err: unknown, services: Services): Response {
  const e = toChuteError(err);
  const requestId = c.get('requestId') ?? randomBase62(16);
  if (e.status >= 500)
    services.logger.error({ requestId, err: e.cause ?? e, code: e.code }, 'request failed');
  const headers: Record<string, string> = {
    ...e.headers,
    'x-request-id': requestId,
    'cache-control': 'no-store',
  };
  return c.json(toJson(e, requestId), e.status as 400, headers);
}
