/**
 * Shared by the POST Object and CORS tests: a store on 127.0.0.1:0 over real HTTP, a POST-form
 * signer written independently of @chute/sigv4 (so the two cross-check), and a browser-like
 * form sender (FormData + fetch, which lays out the multipart body as browsers do).
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { createStore, type Store } from '../src/index.ts';

export const ACCESS_KEY = 'AKIDCHUTEPOST';
export const SECRET = 'post-secret-for-tests';
export const REGION = 'us-east-1';

export interface Running {
  store: Store;
  url: string;
  s3: S3Client;
  stop(): Promise<void>;
}

export async function startStore(buckets: string[] = ['forms']): Promise<Running> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chute-post-'));
  const store = await createStore(
    {
      port: 0,
      dataDir,
      region: REGION,
      users: [{ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET }],
      buckets,
    },
    { log: () => {} },
  );
  const { url } = await store.listen();
  const s3 = new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
  });
  return {
    store,
    url,
    s3,
    async stop() {
      s3.destroy();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function amzDate(ms: number): { long: string; short: string } {
  const long = new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return { long, short: long.slice(0, 8) };
}

export interface SignOptions {
  now?: number;
  /** Seconds from now; negative for a policy that has already expired. */
  expiresIn?: number;
  secret?: string;
  /** Conditions besides the signing fields and the bucket, which are added. */
  conditions: unknown[];
  bucket?: string;
}

/**
 * A SigV4-signed form: the signing fields (each covered by a condition), `Policy` (base64 JSON)
 * and `X-Amz-Signature` = hex(HMAC(signing key, base64 policy)).
 */
export function signedFields(opts: SignOptions): Record<string, string> {
  const now = opts.now ?? Date.now();
  const date = amzDate(now);
  const credential = `${ACCESS_KEY}/${date.short}/${REGION}/s3/aws4_request`;
  const signing = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': credential,
    'X-Amz-Date': date.long,
  };
  const policy = {
    expiration: new Date(now + (opts.expiresIn ?? 600) * 1000).toISOString(),
    conditions: [
      { bucket: opts.bucket ?? 'forms' },
      ...opts.conditions,
      ...Object.entries(signing).map(([k, v]) => ({ [k.toLowerCase()]: v })),
    ],
  };
  const b64 = Buffer.from(JSON.stringify(policy)).toString('base64');
  return { ...signing, Policy: b64, 'X-Amz-Signature': signPolicy(b64, date.short, opts.secret ?? SECRET) };
}

export function signPolicy(b64: string, day: string, secret = SECRET): string {
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), REGION), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(b64, 'utf8').digest('hex');
}

/** SigV2: AWSAccessKeyId, policy, signature = base64(HMAC-SHA1(secret, base64 policy)). */
export function signedFieldsV2(conditions: unknown[], expiresIn = 600): Record<string, string> {
  const policy = {
    expiration: new Date(Date.now() + expiresIn * 1000).toISOString(),
    conditions: [{ bucket: 'forms' }, ...conditions],
  };
  const b64 = Buffer.from(JSON.stringify(policy)).toString('base64');
  return {
    AWSAccessKeyId: ACCESS_KEY,
    policy: b64,
    signature: createHmac('sha1', SECRET).update(b64).digest('base64'),
  };
}

export interface FilePart {
  content: string | Uint8Array;
  filename?: string;
  type?: string;
}

/** Posts a form the way a browser does: fields in order, then `file`, via FormData + fetch. */
export function postForm(
  url: string,
  fields: Record<string, string> | [string, string][],
  file: FilePart,
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Array.isArray(fields) ? fields : Object.entries(fields)) form.append(k, v);
  const blob = new Blob(
    [file.content] as ConstructorParameters<typeof Blob>[0],
    file.type ? { type: file.type } : {},
  );
  form.append('file', blob, file.filename ?? 'upload.bin');
  return fetch(url, { method: 'POST', body: form, headers, redirect: 'manual' });
}

export interface RawPart {
  name: string;
  value: string | Uint8Array;
  filename?: string;
  type?: string;
}

export const RAW_BOUNDARY = 'chuteRawBoundary0123456789';

/** A multipart body laid out by hand, for what FormData cannot send (order, names, no filename). */
export function rawForm(parts: RawPart[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${RAW_BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${RAW_BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

export function postRaw(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': `multipart/form-data; boundary=${RAW_BOUNDARY}`, ...headers },
    redirect: 'manual',
  });
}

/** The Code, Message and detail elements of an S3 XML error document. */
export async function s3Error(res: Response): Promise<Record<string, string>> {
  const xml = await res.text();
  const out: Record<string, string> = {};
  const entities: Record<string, string> = {
    '&quot;': '"',
    '&apos;': "'",
    '&lt;': '<',
    '&gt;': '>',
    '&amp;': '&',
  };
  for (const m of xml.matchAll(/<([A-Za-z]+)>([^<]*)<\/\1>/g)) {
    out[m[1]!] = m[2]!.replace(/&(quot|apos|lt|gt|amp);/g, (e) => entities[e] ?? e);
  }
  return out;
}
