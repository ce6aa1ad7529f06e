import assert from 'node:assert/strict';
import { test } from 'node:test';
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
import { CLUSTER, type Cluster, restartCluster, type Site } from './cluster.ts';
import type { Engine } from './engines.ts';
import { routeSpec } from './route-spec.ts';

/**
 * One gateway over real HTTP, against the S3 target the conformance suite uses (the embedded
 * store in-process by default; CHUTE_S3_TARGET=rgw + S3_* for a running Ceph RGW) and a database
 * engine. Nothing is mocked: grants are signed by the gateway and enforced by the store.
 *
 * Or, with CHUTE_E2E_CLUSTER (helpers/cluster.ts; `npm run test:cluster`), the cluster's
 * instances behind its balancer: the harness builds the suite's config from the same options
 * (suiteConfig), with the cluster's storage, database and listen, and restarts the instances on
 * it. Tests that need a gateway's insides (its clock and sweeper, its services, a storage fault
 * injected into it) skip with the reason `h.internals` gives.
 */
export const JWT_SECRET = 'test-secret-test-secret-test-secret-0000';

export const ROUTES = [
  // The issue's example: logos wait for review.
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

/** Why a test that needs a gateway's insides cannot run against the cluster's. */
const CLUSTER_REASON =
  "the gateways are the cluster's own processes (CHUTE_E2E_CLUSTER): their clock, sweeper and services are out of reach";

export interface Harness {
  target: Target;
  s3: S3Client;
  bucket: string;
  readonly gateway: Gateway;
  /** Where requests go: the gateway, or the cluster's balancer. */
  readonly url: string;
  /** Each instance's own URL: the gateway's; the cluster's instances, bypassing the balancer. */
  readonly instanceUrls: readonly string[];
  /** Added to Date.now() for the gateway's clock (grant deadlines, sweeper). */
  clock: { offset: number };
  token(user: string, role?: 'uploader' | 'reviewer' | 'admin'): Promise<string>;
  /** fetch against the gateway; `token` becomes a Bearer header; `json` a JSON body. */
  api(
    path: string,
    init?: { method?: string; token?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  /** A new gateway (the cluster: its instances restarted) on the same database and bucket, configured with `routes`. */
  restart(routes: readonly CompleteRoute[]): Promise<void>;
  /** False for a gateway this harness started; for the cluster, the reason a test that needs `gateway` or `clock` skips. */
  readonly internals: false | string;
  /** Answers per `x-chute-instance` (set by the cluster's balancer), for requests made with `api`. */
  readonly instances: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  routes?: readonly CompleteRoute[];
  /** Fault injection around the real S3 client (a storage that fails some calls); not in the cluster. */
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
  /** Where the gateway logs (default: nowhere); not in the cluster (its instances log to files). */
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

/** A suite's config: the site's sections and what the suite's options ask for. One for both kinds of harness. */
function suiteConfig(
  site: Site,
  options: HarnessOptions,
  routes: readonly unknown[],
): Record<string, unknown> {
  return {
    ...site,
    quotas: { pendingGrants: 1000, bytesPerDay: '10GB', grantsPerMinute: 10_000, ...options.quotas },
    sweeper: { ...site.sweeper, ...options.sweeper },
    ...(options.webhooks !== undefined && { webhooks: options.webhooks }),
    ...(options.proxy !== undefined && { proxy: options.proxy }),
    ...(options.form !== undefined && { form: options.form }),
    ...(options.companion !== undefined && { companion: options.companion }),
    ...(options.cors !== undefined && { cors: options.cors }),
    routes,
  };
}

export async function startHarness(
  engine: Engine,
  label: string,
  options: HarnessOptions = {},
): Promise<Harness> {
  if (CLUSTER !== undefined) return clusterHarness(CLUSTER, engine, options);
  const { target: t, s3 } = await target();
  const bucket = `${t.bucketPrefix}-${label}`.toLowerCase().slice(0, 63);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const clock = { offset: 0 };
  const site: Site = {
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
    // It never runs by itself (sweep: false): tests run it with gateway.sweeper.once().
    sweeper: { intervalMs: 3_600_000, graceMs: 1000 },
  };
  const open = async (routes: readonly CompleteRoute[]) => {
    const config = parseConfig(suiteConfig(site, options, routes));
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
    get instanceUrls() {
      return [current.url];
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
 * The harness for the cluster: the suite's config (suiteConfig, on the cluster's site) written
 * and the instances restarted on it, on an emptied database as a suite of ours gets; requests go
 * through the balancer, and every answer's x-chute-instance is counted. The bucket is the
 * cluster's (nothing is created or deleted here).
 */
async function clusterHarness(c: Cluster, engine: Engine, options: HarnessOptions): Promise<Harness> {
  if (engine.name !== 'cluster')
    throw new Error(
      `with CHUTE_E2E_CLUSTER a suite runs on the cluster's database (SUITE_ENGINES), not ${engine.name}`,
    );
  const inside = (['wrapStorage', 'logger'] as const).filter((k) => options[k] !== undefined);
  if (inside.length > 0)
    throw new Error(
      `the cluster's gateways cannot take ${inside.join(', ')}: skip what needs them in cluster mode`,
    );
  const { target: t, s3 } = await target();
  const apply = async (routes: readonly CompleteRoute[], emptyDatabase: boolean) => {
    const input = suiteConfig(c.site, options, routes.map(routeSpec));
    parseConfig(input); // refused here, with the schema's message, not in each instance's log
    await restartCluster(c, input, { emptyDatabase });
  };
  try {
    // The tests read and write the cluster's objects through the target: the same storage.
    if (t.endpoint !== c.site.storage.endpoint)
      throw new Error(
        `the cluster's storage is ${c.site.storage.endpoint}, the S3 target ${t.endpoint}: set CHUTE_S3_TARGET=rgw and S3_* from the cluster's env`,
      );
    await apply(options.routes ?? ROUTES, true);
  } catch (e) {
    await releaseTarget();
    throw e;
  }
  const instances = new Map<string, number>();
  const fetchApi = apiFetch(() => c.url);
  const unreachable = (): never => {
    throw new Error(CLUSTER_REASON);
  };
  return {
    target: t,
    s3,
    bucket: c.site.storage.bucket,
    get gateway(): Gateway {
      return unreachable();
    },
    url: c.url,
    instanceUrls: c.instances,
    get clock(): { offset: number } {
      return unreachable();
    },
    token: (user, role = 'uploader') => mintToken({ user, role, secret: c.site.auth.jwt.secret }),
    async api(path, init) {
      const res = await fetchApi(path, init);
      const by = res.headers.get('x-chute-instance');
      if (by !== null) instances.set(by, (instances.get(by) ?? 0) + 1);
      return res;
    },
    restart: (routes) => apply(routes, false),
    internals: CLUSTER_REASON,
    instances,
    close: releaseTarget,
  };
}

/**
 * In the cluster, a file's last test: every instance answered some of its requests (made with
 * `api`), so the file fails if the balancer were bypassed or sent everything to one instance.
 */
export function testSpread(harness: () => Harness): void {
  if (CLUSTER === undefined) return;
  const all = CLUSTER.instances.length;
  test(`through the balancer: the requests were spread over all ${all} instances`, (t) => {
    const counts = [...harness().instances].sort(([a], [b]) => a.localeCompare(b));
    t.diagnostic(`answers per instance: ${counts.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
    assert.ok(counts.length >= 2, 'not more than one instance answered');
    assert.equal(counts.length, all);
  });
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
