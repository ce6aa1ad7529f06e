// Shared plumbing for the conformance suite: an SDK client for the target, a bucket per test file,
// S3 error parsing, and the two browser transports built by hand (POST policy forms, presigned URLs).
// Signing here is written from the AWS documentation with node:crypto, not with our own @chute/sigv4:
// the suite is the oracle the implementation is checked against.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { openTarget, type Target } from './target.ts';

export interface Suite {
  target: Target;
  s3: S3Client;
  bucket: string;
}

/**
 * Opens the target and creates one uniquely named bucket before the file's tests; empties and
 * deletes it (aborting stray multipart uploads) after them.
 */
export function useBucket(label: string): Suite {
  const suite = {} as Suite;
  before(async () => {
    suite.target = await openTarget();
    suite.s3 = s3Client(suite.target);
    suite.bucket = `${suite.target.bucketPrefix}-${label}`.slice(0, 63);
    await suite.s3.send(new CreateBucketCommand({ Bucket: suite.bucket }));
  });
  after(async () => {
    if (!suite.s3) return;
    try {
      await emptyAndDeleteBucket(suite.s3, suite.bucket);
    } finally {
      suite.s3.destroy();
      await suite.target.close();
    }
  });
  return suite;
}

export function s3Client(target: Target): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    // Otherwise the SDK signs a CRC32 of an empty body into presigned URLs (see DESIGN.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<void> {
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? []) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    token = page.NextContinuationToken;
  } while (token);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

export function objectUrl(suite: Suite, key: string): string {
  return `${suite.target.endpoint}/${suite.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export const md5hex = (data: string | Uint8Array): string => createHash('md5').update(data).digest('hex');
export const sha256b64 = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest('base64');

// ---- errors -------------------------------------------------------------------------------------

/** An S3 error as seen on the wire: status, <Code>, <Message>. */
export interface S3ErrorShape {
  status: number;
  code: string;
  message: string;
  /** False for SDK errors and bodiless responses (HEAD), where the message cannot be judged. */
  hasBody: boolean;
  body: string;
}

export async function errorOf(res: Response): Promise<S3ErrorShape> {
  const body = await res.text();
  return {
    status: res.status,
    code: xmlText(body, 'Code') ?? '',
    message: xmlText(body, 'Message') ?? '',
    hasBody: body.length > 0,
    body,
  };
}

/** Awaits a call that must fail and returns the S3 error the SDK parsed from the response. */
export async function sdkErrorOf(call: Promise<unknown>): Promise<S3ErrorShape> {
  try {
    await call;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    assert.ok(e.$metadata?.httpStatusCode, `not an S3 error response: ${String(err)}`);
    return { status: e.$metadata.httpStatusCode, code: e.name ?? '', message: '', hasBody: false, body: '' };
  }
  return assert.fail('the request succeeded but an S3 error was expected');
}

export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml) ?? new RegExp(`<${tag}/>`).exec(xml);
  return m ? decodeXml(m[1] ?? '') : undefined;
}

function decodeXml(s: string): string {
  return s
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

// ---- POST policy forms --------------------------------------------------------------------------

export type PolicyCondition = Record<string, string> | [string, string, string] | [string, number, number];

export interface PostFormOptions {
  /** Form fields in the order a page would list them (the key first); `file` is always appended last. */
  fields: Array<[string, string]>;
  /** Conditions besides bucket and the x-amz-* signing fields, which are always added. */
  conditions: PolicyCondition[];
  /** Seconds from now; negative for an expired policy. */
  expiresIn?: number;
  file: { filename: string; contentType: string; body: Uint8Array | string };
}

/** Form fields signed per "Authenticating Requests in Browser-Based Uploads Using POST (SigV4)". */
export function signPostForm(suite: Suite, opts: PostFormOptions): Array<[string, string]> {
  const { target, bucket } = suite;
  const now = new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const credential = `${target.accessKeyId}/${day}/${target.region}/s3/aws4_request`;
  const policy = {
    expiration: new Date(now.getTime() + (opts.expiresIn ?? 300) * 1000).toISOString(),
    conditions: [
      { bucket },
      ...opts.conditions,
      { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
      { 'x-amz-credential': credential },
      { 'x-amz-date': amzDate },
    ],
  };
  const encoded = Buffer.from(JSON.stringify(policy)).toString('base64');
  return [
    ...opts.fields,
    ['x-amz-algorithm', 'AWS4-HMAC-SHA256'],
    ['x-amz-credential', credential],
    ['x-amz-date', amzDate],
    ['policy', encoded],
    ['x-amz-signature', hmac(signingKey(target, day), encoded).toString('hex')],
  ];
}

function signingKey(target: Target, day: string): Buffer {
  const kDate = hmac(`AWS4${target.secretAccessKey}`, day);
  return hmac(hmac(hmac(kDate, target.region), 's3'), 'aws4_request');
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** multipart/form-data as a browser encodes a <form enctype="multipart/form-data">. */
export function browserForm(
  fields: Array<[string, string]>,
  file: PostFormOptions['file'],
): { body: Buffer; contentType: string } {
  const boundary = `----WebKitFormBoundary${randomBytes(12).toString('base64url').slice(0, 16)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\n` +
        `Content-Type: ${file.contentType}\r\n\r\n`,
    ),
    Buffer.from(file.body),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function postForm(
  suite: Suite,
  fields: Array<[string, string]>,
  file: PostFormOptions['file'],
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = browserForm(fields, file);
  return fetch(`${suite.target.endpoint}/${suite.bucket}`, {
    method: 'POST',
    body: form.body,
    headers: { 'content-type': form.contentType, ...headers },
    redirect: 'manual',
  });
}

/** Replaces one field's value, keeping the order. */
export function withField(
  fields: Array<[string, string]>,
  name: string,
  value: string | ((old: string) => string),
): Array<[string, string]> {
  assert.ok(
    fields.some(([n]) => n === name),
    `no field ${name}`,
  );
  return fields.map(([n, v]) => [n, n === name ? (typeof value === 'function' ? value(v) : value) : v]);
}

/** Flips one character of a hex or base64 string: same length, different value. */
export function tamper(s: string, at = s.length - 2): string {
  const c = s[at];
  const swapped = c === 'a' ? 'b' : c === 'A' ? 'B' : 'a';
  return s.slice(0, at) + swapped + s.slice(at + 1);
}

export const bytes = (n: number, seed = 1): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
