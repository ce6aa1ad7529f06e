import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  createGateway,
  type Gateway,
  mintToken,
  parseConfig,
  prepareBucket,
  route,
  S3Storage,
  type Storage,
  silentLogger,
} from '@chute/gateway';
import { presignUrl, signPostPolicy } from '@chute/sigv4';
import { s3Client } from '../../../../test/conformance/helpers.ts';
import { openTarget, type Target } from '../../../../test/conformance/target.ts';
import { startProxy, type TestProxy } from './proxy.ts';

/**
 * A real stack for the client: the S3 target of the conformance suite (the embedded store
 * in-process; CHUTE_S3_TARGET=rgw for Ceph RGW), a proxy in front of it (the URLs the gateway
 * signs point at the proxy), the gateway on SQLite with a movable clock, and a proxy in front of
 * the gateway. Nothing is mocked: storage enforces what the gateway signed.
 */
export const JWT_SECRET = 'client-test-secret-client-test-secret-00';

export const ROUTES = [
  route('notes').types('text/plain').maxSize('20MB').method('post'),
  route('notes-put').types('text/plain').maxSize('20MB').method('put'),
  route('small').types('text/plain').maxSize('1MB').method('put'),
  // For measuring memory against file size by hand (see the client README).
  route('huge').types('text/plain').maxSize('5GiB').method('put'),
  route('huge-post').types('text/plain').maxSize('5GiB').method('post'),
  // Multipart above 8 MiB (the gateway cuts 16 MiB parts).
  route('big').types('text/plain').maxSize('10GiB').multipart({ threshold: '8MiB' }),
];

export interface Stack {
  target: Target;
  s3: S3Client;
  bucket: string;
  gateway: Gateway;
  /** The gateway itself, and the proxy in front of it (what the client is given). */
  gatewayUrl: string;
  gatewayProxy: TestProxy;
  storageProxy: TestProxy;
  /** Added to Date.now() for the gateway's clock. */
  clock: { offset: number };
  /**
   * How many of the next grants are signed for storage as already expired (their record is not),
   * and the part numbers whose next part URL is.
   */
  expire: { next: number; parts: Set<number> };
  token: string;
  exists(key: string): Promise<boolean>;
  /** GET /v1/uploads/{id} straight from the gateway. */
  view(id: string): Promise<{ state: string; [k: string]: unknown }>;
  /** The frozen bytes' SHA-256, through the gateway's download link. */
  downloadSha256(id: string): Promise<string>;
  close(): Promise<void>;
}

export async function startStack(
  label: string,
  options: {
    clockOffset?: number /** A web page's origin: allowed by /v1 CORS and the bucket's. */;
    corsOrigin?: string;
  } = {},
): Promise<Stack> {
  const target = await openTarget();
  const s3 = s3Client(target);
  const bucket = `${target.bucketPrefix}-${label}`.toLowerCase().slice(0, 63);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const dir = await mkdtemp(join(tmpdir(), 'chute-client-'));
  const storageProxy = await startProxy(target.endpoint);
  const clock = { offset: options.clockOffset ?? 0 };
  const expire = { next: 0, parts: new Set<number>() };
  const storageConfig = {
    endpoint: target.endpoint,
    publicEndpoint: storageProxy.url,
    region: target.region,
    bucket,
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
  };
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    storage: storageConfig,
    database: { url: `sqlite:${join(dir, 'chute.db')}` },
    auth: { jwt: { secret: JWT_SECRET } },
    quotas: { pendingGrants: 1000, bytesPerDay: '10GB', grantsPerMinute: 10_000 },
    sweeper: { intervalMs: 3_600_000, graceMs: 1000 },
    routes: ROUTES,
    ...(options.corsOrigin !== undefined && { cors: { origins: [options.corsOrigin] } }),
  });
  if (options.corsOrigin !== undefined)
    await prepareBucket(config.storage, { corsOrigins: [options.corsOrigin] });
  const gateway = await createGateway(config, {
    logger: silentLogger(),
    clock: () => Date.now() + clock.offset,
    storage: expiringStorage(new S3Storage(config.storage), storageConfig, expire),
    sweep: false,
    processMetrics: false,
    page: false,
  });
  const { url: gatewayUrl } = await gateway.listen();
  const gatewayProxy = await startProxy(gatewayUrl);
  const token = await mintToken({ user: 'alice', role: 'uploader', secret: JWT_SECRET });
  const auth = { authorization: `Bearer ${token}` };
  return {
    target,
    s3,
    bucket,
    gateway,
    gatewayUrl,
    gatewayProxy,
    storageProxy,
    clock,
    expire,
    token,
    async exists(key) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
          return false;
        throw e;
      }
    },
    async view(id) {
      const res = await fetch(`${gatewayUrl}/v1/uploads/${id}`, { headers: auth });
      return (await res.json()) as { state: string };
    },
    async downloadSha256(id) {
      const link = await fetch(`${gatewayUrl}/v1/files/${id}/download`, {
        headers: { ...auth, accept: 'application/json' },
      });
      const { url } = (await link.json()) as { url: string };
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`download: ${res.status}`);
      const hash = createHash('sha256');
      for await (const chunk of res.body!) hash.update(chunk);
      return hash.digest('hex');
    },
    async close() {
      await gateway.close();
      await gatewayProxy.close();
      await storageProxy.close();
      s3.destroy();
      await target.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The gateway's own S3 storage, except that while `expire.next > 0` a grant's URL or form is
 * signed two hours in the past — what a grant looks like to storage once its lifetime is over.
 * The signature is real (@chute/sigv4, the gateway's signer); storage refuses it on its own.
 */
function expiringStorage(
  inner: S3Storage,
  cfg: {
    publicEndpoint: string;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
  },
  expire: { next: number; parts: Set<number> },
): Storage {
  const past = () => Date.now() - 2 * 3600_000;
  const credentials = { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'presignPut')
        return (input: Parameters<Storage['presignPut']>[0]) => {
          if (expire.next <= 0) return target.presignPut(input);
          expire.next--;
          return presignUrl({
            method: 'PUT',
            endpoint: cfg.publicEndpoint,
            path: `/${cfg.bucket}/${input.key}`,
            headers: input.headers,
            credentials,
            region: cfg.region,
            expiresIn: input.expiresIn,
            now: past(),
          });
        };
      if (prop === 'presignPart')
        return (input: Parameters<Storage['presignPart']>[0]) => {
          if (!expire.parts.delete(input.partNumber)) return target.presignPart(input);
          return presignUrl({
            method: 'PUT',
            endpoint: cfg.publicEndpoint,
            path: `/${cfg.bucket}/${input.key}`,
            query: { partNumber: String(input.partNumber), uploadId: input.uploadId },
            headers: { 'content-length': String(input.size) },
            credentials,
            region: cfg.region,
            expiresIn: input.expiresIn,
            now: past(),
          });
        };
      if (prop === 'postForm')
        return (input: Parameters<Storage['postForm']>[0]) => {
          if (expire.next <= 0) return target.postForm(input);
          expire.next--;
          const signed = signPostPolicy({
            endpoint: cfg.publicEndpoint,
            bucket: cfg.bucket,
            key: input.key,
            conditions: input.conditions,
            fields: input.fields,
            credentials,
            region: cfg.region,
            expiresIn: input.expiresIn,
            virtualHost: false,
            now: past(),
          });
          return { url: signed.url, fields: signed.fields };
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Storage;
}

/** A text file of `size` bytes on disk (text/plain verifies without a magic number). */
export async function textFile(
  dir: string,
  name: string,
  size: number,
): Promise<{ path: string; sha256: string }> {
  const line = 'chute client test line, plain ASCII text.\n';
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += line.length) buf.write(line, i, 'ascii');
  const path = join(dir, name);
  await writeFile(path, buf);
  return { path, sha256: createHash('sha256').update(buf).digest('hex') };
}
