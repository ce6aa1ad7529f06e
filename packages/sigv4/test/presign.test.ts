import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/protocol-http';
import { presignUrl } from '../src/presign.ts';
import type { Credentials, PresignInput } from '../src/types.ts';
import { verifyRequest } from '../src/verify.ts';
import {
  credentials,
  FIXED_NOW,
  oddKey,
  pick,
  prng,
  REGIONS,
  sdkEncodePath,
  smithySigner,
} from './helpers.ts';

const EXAMPLE: Credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

/** The SDK's URL query order: raw names sorted, each name and value escaped. */
function sdkUrl(req: HttpRequest): string {
  const q = req.query as Record<string, string>;
  const esc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = Object.keys(q)
    .sort()
    .map((k) => `${esc(k)}=${esc(q[k]!)}`)
    .join('&');
  return `${req.protocol}//${req.hostname}${req.port ? `:${req.port}` : ''}${req.path}?${query}`;
}

describe('presignUrl', () => {
  it('matches the AWS doc example (GET /test.txt, 86400 s)', () => {
    // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", example.
    const url = presignUrl({
      method: 'GET',
      endpoint: 'https://examplebucket.s3.amazonaws.com',
      path: '/test.txt',
      region: 'us-east-1',
      credentials: EXAMPLE,
      expiresIn: 86400,
      now: Date.UTC(2013, 4, 24),
    });
    assert.equal(
      url,
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
        '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400' +
        '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404' +
        '&X-Amz-SignedHeaders=host',
    );
  });

  for (const bad of [0, -1, 604801, 1.5, Number.NaN]) {
    it(`refuses expiresIn=${bad} with RangeError`, () => {
      assert.throws(
        () =>
          presignUrl({
            method: 'GET',
            endpoint: 'http://x',
            path: '/b/k',
            region: 'us-east-1',
            credentials: EXAMPLE,
            expiresIn: bad,
          }),
        RangeError,
      );
    });
  }

  it('accepts expiresIn at both bounds (1 and 604800)', () => {
    for (const expiresIn of [1, 604800]) {
      const url = presignUrl({
        method: 'GET',
        endpoint: 'http://x',
        path: '/b',
        region: 'r',
        credentials: EXAMPLE,
        expiresIn,
      });
      assert.match(url, new RegExp(`X-Amz-Expires=${expiresIn}&`));
    }
  });

  it('refuses auth parameters in the caller query (X-Amz-Signature)', () => {
    assert.throws(
      () =>
        presignUrl({
          method: 'GET',
          endpoint: 'http://x',
          path: '/b',
          region: 'r',
          credentials: EXAMPLE,
          expiresIn: 60,
          query: { 'X-Amz-Signature': 'x' },
        }),
      TypeError,
    );
  });

  it('equals @smithy/signature-v4 presign on 300 generated requests', async () => {
    const rand = prng(0xc47e);
    for (let i = 0; i < 300; i++) {
      const creds = credentials(rand);
      const region = pick(rand, REGIONS);
      const method = pick(rand, ['GET', 'PUT', 'HEAD', 'DELETE', 'POST']);
      const key = oddKey(rand);
      const port = pick(rand, [undefined, 9000, 443]);
      const protocol = pick(rand, ['http:', 'https:']);
      const hostname = pick(rand, ['127.0.0.1', 'bucket.s3.amazonaws.com', 'minio.local']);
      const headers: Record<string, string> = {};
      if (rand() < 0.5)
        headers['content-type'] = pick(rand, ['image/png', 'text/plain; charset=utf-8', 'a  b ']);
      if (rand() < 0.5) headers['content-length'] = String(Math.floor(rand() * 1e9));
      if (rand() < 0.3) headers['content-md5'] = '1B2M2Y8AsgTpgAmY7PhCfg==';
      if (rand() < 0.4) headers['x-amz-meta-upload-id'] = `u-${i}`;
      if (rand() < 0.3) headers['x-amz-meta-user-id'] = 'user 7 ü';
      if (rand() < 0.3) headers['x-amz-checksum-sha256'] = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
      if (rand() < 0.2) headers['x-amz-acl'] = 'private';
      const query: Record<string, string> = {};
      if (rand() < 0.3)
        Object.assign(query, { partNumber: String(1 + Math.floor(rand() * 10000)), uploadId: 'Up+load/ID=' });
      if (rand() < 0.2) query['response-content-disposition'] = 'attachment; filename="a b.png"';
      if (rand() < 0.2) query['versionId'] = '';
      const expiresIn = 1 + Math.floor(rand() * 604800);
      const now = FIXED_NOW + Math.floor(rand() * 1e11);
      const path = `/bucket/${key}`;
      const endpoint = `${protocol}//${hostname}${port ? `:${port}` : ''}`;
      // smithy hashes the (absent) body unless x-amz-content-sha256 is given, and then hoists that
      // header into the query like any x-amz-*: cover both.
      const hoistSha = rand() < 0.5;
      const ours = presignUrl({
        method,
        endpoint,
        path,
        query: hoistSha ? { ...query, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : query,
        headers,
        credentials: creds,
        region,
        expiresIn,
        now,
        payloadHash: hoistSha
          ? 'UNSIGNED-PAYLOAD'
          : 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      });

      const host = new URL(endpoint).host;
      const sdkPort = new URL(endpoint).port;
      const request = new HttpRequest({
        method,
        protocol,
        hostname,
        port: sdkPort ? Number(sdkPort) : undefined,
        path: sdkEncodePath(path),
        query: { ...query },
        headers: { host, ...headers, ...(hoistSha ? { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : {}) },
      });
      const signed = await smithySigner(creds, region).presign(request, {
        signingDate: new Date(now),
        expiresIn,
        unhoistableHeaders: new Set(Object.keys(headers)),
        // content-length is signable by smithy already; content-type too (only the S3 presigner drops it).
      });
      assert.equal(ours, sdkUrl(signed as HttpRequest), `case ${i}: ${method} ${path}`);
    }
  });

  it('equals @aws-sdk/s3-request-presigner getSignedUrl on 200 generated S3 commands', async () => {
    const rand = prng(42);
    const clients = new Map<string, S3Client>();
    for (let i = 0; i < 200; i++) {
      const creds = credentials(rand);
      const region = pick(rand, REGIONS);
      const pathStyle = rand() < 0.6;
      const endpoint = pathStyle
        ? pick(rand, ['http://127.0.0.1:9000', 'https://s3.example.com'])
        : undefined;
      const ck = `${creds.accessKeyId}|${creds.secretAccessKey}|${creds.sessionToken}|${region}|${endpoint}`;
      let client = clients.get(ck);
      if (client === undefined) {
        client = new S3Client({
          region,
          credentials: creds,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        });
        clients.set(ck, client);
      }
      const bucket = pick(
        rand,
        ['bucket', 'chute-uploads', 'my.bucket'].filter((b) => pathStyle || !b.includes('.')),
      );
      const key = oddKey(rand);
      const kind = pick(rand, ['put', 'get', 'head', 'delete', 'part']);
      const headers: Record<string, string> = {};
      const query: Record<string, string> = {};
      let command:
        | PutObjectCommand
        | GetObjectCommand
        | HeadObjectCommand
        | DeleteObjectCommand
        | UploadPartCommand;
      let method: string;
      if (kind === 'put') {
        const input: ConstructorParameters<typeof PutObjectCommand>[0] = { Bucket: bucket, Key: key };
        if (rand() < 0.7) {
          input.ContentType = pick(rand, ['image/png', 'application/pdf']);
          headers['content-type'] = input.ContentType;
        }
        if (rand() < 0.7) {
          input.ContentLength = Math.floor(rand() * 1e8);
          headers['content-length'] = String(input.ContentLength);
        }
        if (rand() < 0.5) {
          input.Metadata = { 'upload-id': `up-${i}`, 'user-id': 'u 1' };
          headers['x-amz-meta-upload-id'] = `up-${i}`;
          headers['x-amz-meta-user-id'] = 'u 1';
        }
        if (rand() < 0.3) {
          input.ACL = 'private';
          headers['x-amz-acl'] = 'private';
        }
        command = new PutObjectCommand(input);
        method = 'PUT';
        query['x-id'] = 'PutObject';
      } else if (kind === 'part') {
        const partNumber = 1 + Math.floor(rand() * 10000);
        const uploadId = pick(rand, ['abc', 'Up+load/ID=', 'x y']);
        const length = Math.floor(rand() * 5e9);
        headers['content-length'] = String(length);
        command = new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          PartNumber: partNumber,
          UploadId: uploadId,
          ContentLength: length,
        });
        method = 'PUT';
        Object.assign(query, { partNumber: String(partNumber), uploadId, 'x-id': 'UploadPart' });
      } else if (kind === 'get') {
        const input: ConstructorParameters<typeof GetObjectCommand>[0] = { Bucket: bucket, Key: key };
        if (rand() < 0.4)
          input.ResponseContentDisposition = query['response-content-disposition'] =
            'attachment; filename="x y.png"';
        command = new GetObjectCommand(input);
        method = 'GET';
        query['x-id'] = 'GetObject';
        // The SDK's default responseChecksumValidation (WHEN_SUPPORTED) hoists this into GET URLs.
        query['x-amz-checksum-mode'] = 'ENABLED';
      } else if (kind === 'head') {
        command = new HeadObjectCommand({ Bucket: bucket, Key: key });
        method = 'HEAD';
      } else {
        command = new DeleteObjectCommand({ Bucket: bucket, Key: key });
        method = 'DELETE';
        query['x-id'] = 'DeleteObject';
      }
      // The S3 presigner hoists x-amz-content-sha256 into the query; we take it as a plain parameter.
      query['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
      const expiresIn = 1 + Math.floor(rand() * 604800);
      const now = FIXED_NOW + Math.floor(rand() * 1e10);
      const sdk = await getSignedUrl(client, command as PutObjectCommand, {
        expiresIn,
        signingDate: new Date(now),
        signableHeaders: new Set(headers['content-type'] ? ['content-type'] : []),
        unhoistableHeaders: new Set(Object.keys(headers).filter((h) => h.startsWith('x-amz-'))),
      });
      const input: PresignInput = pathStyle
        ? {
            method,
            endpoint: endpoint!,
            path: `/${bucket}/${key}`,
            query,
            headers,
            credentials: creds,
            region,
            expiresIn,
            now,
          }
        : {
            method,
            endpoint: `https://${bucket}.s3.${region}.amazonaws.com`,
            path: `/${key}`,
            query,
            headers,
            credentials: creds,
            region,
            expiresIn,
            now,
          };
      assert.equal(presignUrl(input), sdk, `case ${i}: ${kind} ${key}`);
      // And the verifier takes the SDK's URL as a client would send it.
      const u = new URL(sdk);
      const auth = verifyRequest(
        { method, rawPath: u.pathname, rawQuery: u.search.slice(1), headers: { host: u.host, ...headers } },
        { lookupSecret: () => creds.secretAccessKey, now, region },
      );
      assert.equal(auth.kind, 'sigv4-query');
    }
  });
});
