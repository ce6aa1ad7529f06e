// Bucket CORS as browsers meet it: the configuration round-trips, preflights for PUT and POST pass
// for the app's origin and fail for others, and responses expose ETag (multipart needs to read it).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  type CORSRule,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { deviates, expectError } from './deviations.ts';
import { errorOf, objectUrl, postForm, sdkErrorOf, signPostForm, useBucket } from './helpers.ts';

const s = useBucket('cors');

const origin = 'https://app.example';
const rules: CORSRule[] = [
  {
    AllowedOrigins: [origin],
    AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
    AllowedHeaders: ['*'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 600,
  },
];

function preflight(url: string, method: string, from = origin, headers = 'content-type'): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin: from,
      'access-control-request-method': method,
      'access-control-request-headers': headers,
    },
  });
}

const exposed = (res: Response): string[] =>
  (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());

describe('bucket CORS', () => {
  before(async () => {
    await s.s3.send(new PutBucketCorsCommand({ Bucket: s.bucket, CORSConfiguration: { CORSRules: rules } }));
  });

  it('GetBucketCors returns the rules as put', async () => {
    const res = await s.s3.send(new GetBucketCorsCommand({ Bucket: s.bucket }));
    const [rule] = res.CORSRules ?? [];
    assert.deepEqual(rule?.AllowedOrigins, [origin]);
    assert.deepEqual([...(rule?.AllowedMethods ?? [])].sort(), ['GET', 'HEAD', 'POST', 'PUT']);
    assert.deepEqual(rule?.AllowedHeaders, ['*']);
    assert.deepEqual(rule?.ExposeHeaders, ['ETag']);
    assert.equal(rule?.MaxAgeSeconds, 600);
  });

  it('a preflight for PUT from the allowed origin: 200 with the allow headers', async () => {
    const res = await preflight(
      objectUrl(s, 'incoming/a.png'),
      'PUT',
      origin,
      'content-type,x-amz-meta-user-id',
    );
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bPUT\b/);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    assert.match(allowed, /content-type/);
    assert.match(allowed, /x-amz-meta-user-id/);
    assert.equal(res.headers.get('access-control-max-age'), '600');
  });

  it('a preflight for a form POST to the bucket: 200', async () => {
    const res = await preflight(`${s.target.endpoint}/${s.bucket}`, 'POST');
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
  });

  it('a preflight from another origin: 403 AccessForbidden, no allow-origin', async () => {
    const res = await preflight(objectUrl(s, 'incoming/a.png'), 'PUT', 'https://evil.example');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    expectError(s.target, await errorOf(res), 403, 'AccessForbidden', {
      deviation: 'cors-refusal-access-denied',
    });
  });

  it('a preflight for a method no rule allows: 403 AccessForbidden', async () => {
    const res = await preflight(objectUrl(s, 'incoming/a.png'), 'DELETE');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    expectError(s.target, await errorOf(res), 403, 'AccessForbidden', {
      deviation: 'cors-refusal-access-denied',
    });
  });

  it('a presigned PUT with Origin exposes ETag to the page', async () => {
    const url = await getSignedUrl(s.s3, new PutObjectCommand({ Bucket: s.bucket, Key: 'cors/put.txt' }), {
      expiresIn: 60,
    });
    const res = await fetch(url, { method: 'PUT', body: 'x', headers: { origin } });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.ok(exposed(res).includes('etag'), `expose: ${res.headers.get('access-control-expose-headers')}`);
    assert.ok(res.headers.get('etag'));
  });

  it('a presigned GET with Origin exposes ETag to the page', async () => {
    const url = await getSignedUrl(s.s3, new GetObjectCommand({ Bucket: s.bucket, Key: 'cors/put.txt' }), {
      expiresIn: 60,
    });
    const res = await fetch(url, { headers: { origin } });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.ok(exposed(res).includes('etag'), `expose: ${res.headers.get('access-control-expose-headers')}`);
  });

  it('a form POST with Origin gets the allow-origin header', async () => {
    const file = { filename: 'a.txt', contentType: 'text/plain', body: 'posted' };
    const fields = signPostForm(s, {
      fields: [['key', 'cors/post.txt']],
      conditions: [{ key: 'cors/post.txt' }],
      file,
    });
    const res = await postForm(s, fields, file, { origin });
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
  });

  it('a preflight without Origin: 400 BadRequest', async () => {
    const res = await fetch(objectUrl(s, 'incoming/a.png'), {
      method: 'OPTIONS',
      headers: { 'access-control-request-method': 'PUT' },
    });
    expectError(s.target, await errorOf(res), 400, 'BadRequest', { deviation: 'cors-preflight-no-origin' });
  });

  it('a refused preflight says why, in S3 words', async () => {
    const res = await preflight(objectUrl(s, 'incoming/a.png'), 'PUT', 'https://evil.example');
    const err = await errorOf(res);
    if (deviates(s.target, 'cors-refusal-access-denied')) return;
    assert.equal(
      err.message,
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    );
  });

  it('an error answer to a matching cross-origin request carries the CORS headers', async () => {
    // Otherwise the browser hides S3's error document from the page behind a CORS failure.
    const url = await getSignedUrl(s.s3, new GetObjectCommand({ Bucket: s.bucket, Key: 'cors/missing' }), {
      expiresIn: 60,
    });
    const res = await fetch(url, { headers: { origin } });
    expectError(s.target, await errorOf(res), 404, 'NoSuchKey');
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
  });

  it('without a configuration: GetBucketCors 404 NoSuchCORSConfiguration, preflight 403', async () => {
    await s.s3.send(new DeleteBucketCorsCommand({ Bucket: s.bucket }));
    const err = await sdkErrorOf(s.s3.send(new GetBucketCorsCommand({ Bucket: s.bucket })));
    expectError(s.target, err, 404, 'NoSuchCORSConfiguration');
    const res = await preflight(objectUrl(s, 'incoming/a.png'), 'PUT');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    expectError(s.target, await errorOf(res), 403, 'AccessForbidden', {
      deviation: 'cors-refusal-access-denied',
    });
  });
});
