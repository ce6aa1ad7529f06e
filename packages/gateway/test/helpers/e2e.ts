import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../../../../test/conformance/helpers.ts';
import { openTarget, type Target } from '../../../../test/conformance/target.ts';
import { mintToken } from '../../src/auth/mint.ts';
import { parseConfig } from '../../src/config/parse.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { type CompleteRoute, route } from '../../src/rules/builder.ts';
import { S3Storage } from '../../src/storage/s3.ts';
import type { Storage } from '../../src/storage/types.ts';
import { type Logger, silentLogger } from '../../src/telemetry/logger.ts';
import { apiFetch } from './api.ts';
import type { Engine } from './engines.ts';

/**
 * One gateway over real HTTP, against the S3 target the conformance suite uses (the embedded
 * store in-process by default; CHUTE_S3_TARGET=rgw + S3_* for a running Ceph RGW) and a database
 * engine. Nothing is mocked: grants are signed by the gateway and enforced by the store.
 *
 * Or a gateway running elsewhere (EXTERNAL below): `npm run test:cluster` points the suite at the
 * cluster's balancer, which has these ROUTES in its config. Then the harness starts nothing;
 * tests that need the gateway's insides (its sweeper, its clock, its database, a restart with
 * other routes) skip with the reason `h.internals` gives.
 */
export const JWT_SECRET = 'test-secret-test-secret-test-secret-0000';

export const ROUTES = [
  // The example: logos wait for review.
  route('logo')
    .types('image/png', 'image/jpeg', 'image/webp', 'image/gif')
    .maxSize('20MB')
    .image({ maxWidth: 4096, maxHeight: 4096 })
    .review(),
  route('avatar')
    .types('image/png', 'image/jpeg')
    .maxSize('1MB')
    .method('put')
    .image({ maxWidth: 512, maxHeight: 512 }),
  route('doc').types('text/plain', 'application/pdf').maxSize('1MB').method('put'),
];

/**
 * A gateway already running, named by the environment (scripts/test-cluster.sh sets these from
 * cluster-up.sh's env): CHUTE_E2E_URL its base URL, CHUTE_E2E_JWT_SECRET the secret it verifies
 * tokens with, CHUTE_E2E_BUCKET its bucket on the S3 target (CHUTE_S3_TARGET=rgw + S3_*).
 * Undefined when CHUTE_E2E_URL is not set.
 */
export const EXTERNAL = external();

function external(): { url: string; secret: string; bucket: string } | undefined {
  const url = process.env['CHUTE_E2E_URL'];
  if (url === undefined || url === '') return undefined;
  const secret = process.env['CHUTE_E2E_JWT_SECRET'];
  const bucket = process.env['CHUTE_E2E_BUCKET'];
  if (!secret || !bucket) throw new Error('CHUTE_E2E_URL needs CHUTE_E2E_JWT_SECRET and CHUTE_E2E_BUCKET');
  return { url: url.replace(/\/+$/, ''), secret, bucket };
}

/** Why a test that needs the gateway's insides cannot run against an external one. */
const EXTERNAL_REASON = 'the gateway runs elsewhere (CHUTE_E2E_URL): its insides are out of reach';

export interface Harness {
  target: Target;
  s3: S3Client;
  bucket: string;
  readonly gateway: Gateway;
  readonly url: string;
  /** Added to Date.now() for the gateway's clock (grant deadlines, sweeper). */
  clock: { offset: number };
  token(user: string, role?: 'uploader' | 'reviewer' | 'admin'): Promise<string>;
  /** fetch against the gateway; `token` becomes a Bearer header; `json` a JSON body. */
  api(
    path: string,
    init?: { method?: string; token?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  /** A new gateway on the same database and bucket, configured with `routes` (a config change). */
  restart(routes: readonly CompleteRoute[]): Promise<void>;
  /**
   * False for a gateway this harness started; for an external one, the reason a test that
   * needs `gateway`, `clock` or `restart` skips.
   */
  readonly internals: false | string;
  /** Answers per `x-chute-instance` (set by the cluster's balancer), for requests made with `api`. */
  readonly instances: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  routes?: readonly CompleteRoute[];
  /** Fault injection around the real S3 client (a storage that fails some calls). */
  wrapStorage?: (real: Storage) => Storage;
  quotas?: { pendingGrants?: number; bytesPerDay?: string; grantsPerMinute?: number };
  sweeper?: { graceMs?: number; claimTimeoutMs?: number };
  /** The config's `webhooks` block (the dispatcher runs, woken by each event). */
  webhooks?: Record<string, unknown>;
  /** The config's `proxy` / `form` blocks. */
  proxy?: Record<string, unknown>;
  form?: Record<string, unknown>;
  /** The config's `companion` and `cors` blocks (Uppy's Companion endpoints, from a page). */
  companion?: Record<string, unknown>;
  cors?: Record<string, unknown>;
  /** Where the gateway logs (default: nowhere). */
  logger?: Logger;
}

let shared: { target: Target; s3: S3Client; users: number } | undefined;

/** The S3 target, opened once per test file and closed with the last harness. */
async function target(): Promise<{ target: Target; s3: S3Client }> {
  if (shared === undefined) {
    const t = await openTarget();
    shared = { target: t, s3: s3Client(t), users: 0 };
  }
  shared.users++;
  return shared;
}

async function releaseTarget(): Promise<void> {
  if (shared === undefined || --shared.users > 0) return;
  const s = shared;
  shared = undefined;
  s.s3.destroy();
  await s.target.close();
}

export async function startHarness(
  engine: Engine,
  label: string,
  options: HarnessOptions = {},
): Promise<Harness> {
  if (EXTERNAL !== undefined) {
    // Its config is its own: a suite that needs other routes or settings cannot run against it.
    const set = Object.keys(options).filter((k) => options[k as keyof HarnessOptions] !== undefined);
    if (set.length > 0) throw new Error(`an external gateway (CHUTE_E2E_URL) cannot take ${set.join(', ')}`);
    return externalHarness(EXTERNAL);
  }
  const { target: t, s3 } = await target();
  const bucket = `${t.bucketPrefix}-${label}`.toLowerCase().slice(0, 63);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const clock = { offset: 0 };
  const open = async (routes: readonly CompleteRoute[]) => {
    const config = parseConfig({
      listen: { host: '127.0.0.1', port: 0 },
      storage: {
        endpoint: t.endpoint,
        region: t.region,
        bucket,
        accessKeyId: t.accessKeyId,
        secretAccessKey: t.secretAccessKey,
      },
      database: { url: engine.url },
      auth: { jwt: { secret: JWT_SECRET } },
      quotas: { pendingGrants: 1000, bytesPerDay: '10GB', grantsPerMinute: 10_000, ...options.quotas },
      sweeper: { intervalMs: 3_600_000, graceMs: 1000, ...options.sweeper },
      ...(options.webhooks !== undefined && { webhooks: options.webhooks }),
      ...(options.proxy !== undefined && { proxy: options.proxy }),
      ...(options.form !== undefined && { form: options.form }),
      ...(options.companion !== undefined && { companion: options.companion }),
      ...(options.cors !== undefined && { cors: options.cors }),
      routes,
    });
    const gateway = await createGateway(config, {
      logger: options.logger ?? silentLogger(),
      clock: () => Date.now() + clock.offset,
      database: engine.options,
      sweep: false,
      processMetrics: false,
      ...(options.wrapStorage !== undefined && {
        storage: options.wrapStorage(new S3Storage(config.storage)),
      }),
    });
    return { gateway, url: (await gateway.listen()).url };
  };
  let current = await open(options.routes ?? ROUTES);
  const harness: Harness = {
    target: t,
    s3,
    bucket,
    get gateway() {
      return current.gateway;
    },
    get url() {
      return current.url;
    },
    clock,
    token: (user, role = 'uploader') => mintToken({ user, role, secret: JWT_SECRET }),
    api: apiFetch(() => current.url),
    async restart(routes) {
      await current.gateway.close();
      current = await open(routes);
    },
    internals: false,
    instances: new Map(),
    async close() {
      await current.gateway.close();
      try {
        await emptyAndDeleteBucket(s3, bucket);
      } finally {
        await releaseTarget();
      }
    },
  };
  return harness;
}
export interface GrantJson {
  id: string;
  method: 'post' | 'put';
  url: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
  key: string;
  expiresAt: string;
  serverTime: string;
}

/** Sends the bytes as the browser would: the grant's form fields in order, the file last. */
export function uploadPost(
  grant: GrantJson,
  bytes: Buffer,
  override: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...grant.fields, ...override })) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(bytes)]), 'upload.bin');
  return fetch(grant.url, { method: 'POST', body: form });
}

/** A PUT to the presigned URL with the grant's headers (Content-Length comes from the body, as in browsers). */
export function uploadPut(
  grant: GrantJson,
  bytes: Buffer,
  override: Record<string, string> = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...grant.headers, ...override };
  delete headers['content-length'];
  return fetch(grant.url, { method: 'PUT', body: new Uint8Array(bytes), headers });
}

export function upload(grant: GrantJson, bytes: Buffer): Promise<Response> {
  return grant.method === 'post' ? uploadPost(grant, bytes) : uploadPut(grant, bytes);
}

/**
 * The harness for a gateway running elsewhere: its bucket exists and is its own (nothing is
 * created or deleted here), its tokens are minted with its secret, and every answer's
 * x-chute-instance is counted.
 */
async function externalHarness(gw: { url: string; secret: string; bucket: string }): Promise<Harness> {
  const { target: t, s3 } = await target();
  const instances = new Map<string, number>();
  const fetchApi = apiFetch(() => gw.url);
  const unreachable = (): never => {
    throw new Error(EXTERNAL_REASON);
  };
  return {
    target: t,
    s3,
    bucket: gw.bucket,
    get gateway(): Gateway {
      return unreachable();
    },
    url: gw.url,
    get clock(): { offset: number } {
      return unreachable();
    },
    token: (user, role = 'uploader') => mintToken({ user, role, secret: gw.secret }),
    async api(path, init) {
      const res = await fetchApi(path, init);
      const by = res.headers.get('x-chute-instance');
      if (by !== null) instances.set(by, (instances.get(by) ?? 0) + 1);
      return res;
    },
    restart: async () => unreachable(),
    internals: EXTERNAL_REASON,
    instances,
    close: releaseTarget,
  };
}

async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0)
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    token = page.NextContinuationToken;
  } while (token);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
