import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { presignUrl, signHeaders } from '@chute/sigv4';
import { createStore, type Store } from '../src/index.ts';

export const CREDS = { accessKeyId: 'AKIDCHUTETEST', secretAccessKey: 'chute-test-secret-key' };
export const REGION = 'us-east-1';

export interface Running {
  store: Store;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** A store on 127.0.0.1:0 over a fresh temp dir; stop() closes it and removes the dir. */
export async function startStore(
  opts: { buckets?: string[]; dir?: string; keepDir?: boolean; region?: string } = {},
): Promise<Running> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'chute-store-'));
  const store = await createStore(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      region: opts.region ?? REGION,
      users: [{ ...CREDS }],
      buckets: opts.buckets ?? [],
    },
    { log: () => {} },
  );
  const { url } = await store.listen();
  return {
    store,
    url,
    dir,
    stop: async () => {
      await store.close();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function client(url: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    credentials: { ...CREDS },
    maxAttempts: 1,
    ...extra,
  });
}

export const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
export const md5b64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');

/**
 * A header-signed raw request (fetch): `payloadHash` defaults to the body's SHA-256; pass
 * 'UNSIGNED-PAYLOAD' etc. to test other modes. `path` is the decoded path.
 */
export async function signedFetch(
  url: string,
  method: string,
  p: string,
  init: {
    body?: Buffer | string;
    headers?: Record<string, string>;
    query?: Record<string, string>;
    payloadHash?: string;
    credentials?: typeof CREDS;
  } = {},
): Promise<Response> {
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  const headers = signHeaders({
    method,
    endpoint: url,
    path: p,
    query: init.query,
    headers: init.headers,
    credentials: init.credentials ?? CREDS,
    region: REGION,
    payloadHash: init.payloadHash ?? sha256hex(body ?? ''),
  });
  const qs = init.query ? `?${new URLSearchParams(init.query).toString().replace(/\+/g, '%20')}` : '';
  const encPath = p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
  const { host: _h, ...send } = headers;
  return fetch(`${url}${encPath}${qs}`, { method, headers: send, body, duplex: 'half' } as RequestInit);
}

export function presign(
  url: string,
  method: string,
  p: string,
  extra: { headers?: Record<string, string>; query?: Record<string, string> } = {},
): string {
  return presignUrl({
    method,
    endpoint: url,
    path: p,
    credentials: CREDS,
    region: REGION,
    expiresIn: 600,
    ...extra,
  });
}

/** The <Code> of an S3 XML error body. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const text = await res.text();
  return /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * node:http request with full control over framing: `body` is written as given (no
 * Content-Length is added: pass it in headers, or get chunked transfer), `holdBody` sends
 * headers only and waits for the answer.
 */
export function rawRequest(
  url: string,
  init: {
    method: string;
    headers?: Record<string, string | number>;
    body?: Buffer | string;
    holdBody?: boolean;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method, headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        });
        if (init.holdBody) req.destroy();
      });
    });
    req.on('error', reject);
    if (init.holdBody) {
      req.flushHeaders();
      return;
    }
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

export const codeOf = (body: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];

/** URL + header-signed headers for rawRequest (payload hash defaults to UNSIGNED-PAYLOAD). */
export function signFor(
  url: string,
  method: string,
  p: string,
  init: { headers?: Record<string, string>; query?: Record<string, string>; payloadHash?: string } = {},
): { url: string; headers: Record<string, string> } {
  const headers = signHeaders({
    method,
    endpoint: url,
    path: p,
    query: init.query,
    headers: init.headers,
    credentials: CREDS,
    region: REGION,
    payloadHash: init.payloadHash ?? 'UNSIGNED-PAYLOAD',
  });
  const qs = init.query ? `?${new URLSearchParams(init.query).toString().replace(/\+/g, '%20')}` : '';
  const encPath = p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
  return { url: `${url}${encPath}${qs}`, headers };
}
