import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Error } from '@chute/errors';
import {
  drainOnClose,
  guardSlowClients,
  SLOW_CLIENT_DEFAULTS,
  type SlowClientLimits,
  slowClientOptions,
} from '@chute/httpd';
import { enforceAccess, makeAuthenticator, type Verify } from './auth.ts';
import { FsBackend } from './backend/fs.ts';
import { STAGE_MIN_BYTES } from './backend/staged-writer.ts';
import type { Backend } from './backend/types.ts';
import { NodeBody, type RequestBody } from './body/request-body.ts';
import { enableBodyTakeover, takeBody } from './body/takeover.ts';
import { type Classified, classify } from './classify.ts';
import { parseStoreConfig, type StoreConfig, type StoreConfigInput } from './config.ts';
import { type LogFn, RequestContext } from './context.ts';
import { isValidBucketName } from './keys.ts';
import { respondError } from './respond-error.ts';
import { ROUTES } from './routes.ts';

export interface Store {
  /** Starts listening; resolves with the bound port and the endpoint URL. */
  listen(): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets in-flight requests finish, then closes idle connections. */
  close(): Promise<void>;
  /** The endpoint URL (valid after listen()). */
  readonly url: string;
  readonly config: StoreConfig;
  readonly backend: Backend;
}

export interface StoreOptions {
  /** One JSON object per request; defaults to a line on stdout. */
  log?: LogFn;
  /** Request verifier; defaults to @chute/sigv4's verifyRequest. */
  verify?: Verify;
  /** Limits on slow clients (tests shorten them); @chute/httpd's defaults, no request deadline. */
  slowClients?: Partial<SlowClientLimits>;
}

export const stdoutLog: LogFn = (line) => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/**
 * Whether a request's body may be read from the socket into reused memory: only where every
 * reader of it is done with a chunk once that chunk's promise settles — the ops that stream a
 * body into a staged blob (the writer copies each chunk into its ring; a blob is staged when
 * the length the op gives newBlob is STAGE_MIN_BYTES or more: the Content-Length, or for
 * aws-chunked the decoded length). A signed aws-chunked body is not taken: its decoder keeps
 * slices of a chunk until the chunk's signature has verified.
 */
function takesBody(op: string, req: IncomingMessage): boolean {
  if (op !== 'PutObject' && op !== 'UploadPart' && op !== 'PostObject') return false;
  const sha = req.headers['x-amz-content-sha256'];
  if (typeof sha === 'string' && sha.startsWith('STREAMING-')) {
    if (op === 'PostObject' || sha !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return false;
    const decoded = req.headers['x-amz-decoded-content-length'];
    return typeof decoded === 'string' && /^\d{1,15}$/.test(decoded) && Number(decoded) >= STAGE_MIN_BYTES;
  }
  return true;
}

/** Builds the store: opens (and recovers) the data dir, creates configured buckets. */
export async function createStore(
  input: StoreConfigInput | StoreConfig,
  opts: StoreOptions = {},
): Promise<Store> {
  const config = parseStoreConfig(input);
  const log = opts.log ?? stdoutLog;
  const backend = await FsBackend.open(config.dataDir);
  for (const name of config.buckets) {
    if (!isValidBucketName(name)) throw new Error(`invalid bucket name in config: ${name}`);
    if (!backend.getBucket(name)) await backend.createBucket(name, { acl: 'private', location: '' });
  }
  const authenticate = makeAuthenticator(config, opts.verify);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const started = performance.now();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('server', 'chute');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const query = new URLSearchParams(rawQuery);
    let c: Classified = { op: 'ListBuckets' };
    let classifyError: unknown;
    try {
      if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
      c = classify(req.method ?? 'GET', rawPath, query, req.headers, config.domains);
    } catch (e) {
      classifyError = e;
    }
    // Decided here, synchronously in the 'request' listener, so the connection can keep the
    // bytes from node:http (body/takeover.ts): see takesBody.
    const body: RequestBody =
      (!classifyError && takesBody(c.op, req) && takeBody(req, res)) || new NodeBody(req);
    const ctx = new RequestContext({
      req,
      res,
      body,
      requestId,
      op: c.op,
      bucket: c.bucket,
      key: c.key,
      query,
      rawPath,
      rawQuery,
      config,
      backend,
      log,
    });
    res.on('close', () => {
      log({
        time: new Date().toISOString(),
        requestId,
        method: req.method,
        path: rawPath,
        op: classifyError ? undefined : c.op,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        ...(res.writableFinished ? {} : { aborted: true }),
        ...ctx.logFields,
      });
    });
    try {
      if (classifyError) throw classifyError;
      const route = ROUTES[c.op];
      if (!route) throw new S3Error('NotImplemented', `${c.op} is not implemented by chute s3`);
      // A browser preflights the exact URL it will send, so the OPTIONS of a presigned PUT carries
      // its X-Amz-Signature query, signed for PUT: S3 answers preflights from the CORS rules alone.
      ctx.auth =
        c.op === 'Preflight'
          ? { kind: 'anonymous' }
          : authenticate({
              method: req.method ?? 'GET',
              rawPath,
              rawQuery,
              headers: req.headers,
              ...(c.virtualBucket !== undefined ? { virtualBucket: c.virtualBucket } : {}),
            });
      if (ctx.auth.kind !== 'anonymous') ctx.logFields.accessKeyId = ctx.auth.accessKeyId;
      if (route.access !== 'none' && !ctx.authenticated) {
        const bucket = c.bucket === undefined ? undefined : backend.getBucket(c.bucket);
        if (c.bucket !== undefined && !bucket && route.access !== 'owner') {
          throw new S3Error('NoSuchBucket', undefined, { BucketName: c.bucket });
        }
        const objectAcl =
          route.access === 'object-read' && bucket && c.key !== undefined
            ? backend.headObject(bucket.name, c.key)?.acl
            : undefined;
        enforceAccess(ctx.auth, route.access, bucket, objectAcl);
      }
      await route.handler(ctx);
    } catch (e) {
      respondError(ctx, e);
    } finally {
      // Refused before the body was read: give the client a moment to read the answer, then
      // drop the connection instead of swallowing an unbounded upload.
      if (!ctx.body.complete) ctx.body.discard();
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e) => {
      log({ level: 'error', error: String(e) });
      res.destroy();
    });
  };
  // No deadline for a whole request (a 5 GiB PUT may take an hour on a slow link); a body
  // trickled below the minimum rate, slow headers and silent sockets are cut (slowloris).
  const slow: Partial<SlowClientLimits> = { ...opts.slowClients, requestMs: 0 };
  const server = http.createServer({ ...slowClientOptions(slow), keepAliveTimeout: 5000 }, onRequest);
  guardSlowClients(server, slow);
  const limits = { ...SLOW_CLIENT_DEFAULTS, ...slow };
  enableBodyTakeover(server, {
    minBytes: STAGE_MIN_BYTES,
    rate: { minBytesPerSec: limits.minBytesPerSec, rateWindowMs: limits.rateWindowMs },
  });
  // `Expect: 100-continue`: answer "100 Continue" only when a handler starts reading the body
  // (see RequestContext's constructor), so a refused upload (auth, size, bucket) is never sent at all.
  server.on('checkContinue', onRequest);
  const drain = drainOnClose(server);
  let url = '';
  return {
    config,
    backend,
    get url() {
      return url;
    },
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          url = `http://${host}:${port}`;
          resolve({ port, url });
        });
      }),
    close: async () => {
      await drain.close();
      await backend.close();
    },
  };
}
