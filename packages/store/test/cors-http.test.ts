import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { signHeaders } from '@chute/sigv4';
import { ACCESS_KEY, REGION, type Running, SECRET, s3Error, startStore } from './post-support.ts';

let env: Running;

before(async () => {
  env = await startStore(['site', 'bare']);
});
after(() => env.stop());

const RULES = [
  {
    ID: 'uploads',
    AllowedOrigins: ['https://app.example', 'http://localhost:*'],
    AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
    AllowedHeaders: ['content-type', 'x-amz-*'],
    ExposeHeaders: ['ETag', 'x-amz-request-id'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
];

async function sdkError(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, String(e));
    return { name: e.name, status: e.$metadata.httpStatusCode };
  }
  assert.fail('expected an S3 error');
}

/** A raw PutBucketCors, header-signed by @chute/sigv4 (the body itself unsigned). */
function putCorsRaw(bucket: string, xml: string, md5 = true): Promise<Response> {
  const headers: Record<string, string> = md5
    ? { 'content-md5': createHash('md5').update(xml).digest('base64') }
    : {};
  const signed = signHeaders({
    method: 'PUT',
    endpoint: env.url,
    path: `/${bucket}`,
    query: { cors: '' },
    headers,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    payloadHash: 'UNSIGNED-PAYLOAD',
  });
  return fetch(`${env.url}/${bucket}?cors`, { method: 'PUT', body: xml, headers: signed });
}

function preflight(path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${env.url}${path}`, { method: 'OPTIONS', headers });
}

describe('Put/Get/DeleteBucketCors', () => {
  test('round trip through the AWS SDK', async () => {
    await env.s3.send(new PutBucketCorsCommand({ Bucket: 'site', CORSConfiguration: { CORSRules: RULES } }));
    const got = await env.s3.send(new GetBucketCorsCommand({ Bucket: 'site' }));
    assert.deepEqual(got.CORSRules, RULES);
  });

  test('no configuration: 404 NoSuchCORSConfiguration; delete is idempotent', async () => {
    assert.deepEqual(await sdkError(env.s3.send(new GetBucketCorsCommand({ Bucket: 'bare' }))), {
      name: 'NoSuchCORSConfiguration',
      status: 404,
    });
    await env.s3.send(new DeleteBucketCorsCommand({ Bucket: 'bare' }));
  });

  test('delete removes the configuration', async () => {
    await env.s3.send(
      new PutBucketCorsCommand({ Bucket: 'bare', CORSConfiguration: { CORSRules: [RULES[1]!] } }),
    );
    await env.s3.send(new DeleteBucketCorsCommand({ Bucket: 'bare' }));
    assert.equal(
      (await sdkError(env.s3.send(new GetBucketCorsCommand({ Bucket: 'bare' })))).name,
      'NoSuchCORSConfiguration',
    );
  });

  test('an unsupported method: 400 InvalidRequest with S3 message', async () => {
    const res = await putCorsRaw(
      'bare',
      '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>',
    );
    assert.equal(res.status, 400);
    const err = await s3Error(res);
    assert.deepEqual(
      [err.Code, err.Message],
      ['InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH'],
    );
  });

  test('malformed XML and a rule without AllowedOrigin: 400 MalformedXML', async () => {
    for (const xml of [
      '<CORSConfiguration><CORSRule>',
      '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
    ]) {
      const res = await putCorsRaw('bare', xml);
      assert.equal(res.status, 400, xml);
      assert.equal((await s3Error(res)).Code, 'MalformedXML');
    }
  });

  test('without Content-MD5 or a checksum: 400 InvalidRequest, as S3 requires', async () => {
    const res = await putCorsRaw(
      'bare',
      '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
      false,
    );
    assert.equal(res.status, 400);
    assert.equal((await s3Error(res)).Code, 'InvalidRequest');
  });

  test('anonymous callers cannot read or change the configuration', async () => {
    const res = await fetch(`${env.url}/site?cors`);
    assert.equal(res.status, 403);
    assert.equal((await s3Error(res)).Code, 'AccessDenied');
  });
});

describe('preflight (OPTIONS), unauthenticated', () => {
  before(async () => {
    await env.s3.send(new PutBucketCorsCommand({ Bucket: 'site', CORSConfiguration: { CORSRules: RULES } }));
  });

  test('allowed: 200 with the rule’s origin, methods, requested headers, exposed headers, max age', async () => {
    const res = await preflight('/site/uploads/a.png', {
      origin: 'https://app.example',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'Content-Type, X-Amz-Meta-Owner',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, PUT, POST, HEAD');
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, x-amz-meta-owner');
    assert.equal(res.headers.get('access-control-expose-headers'), 'ETag, x-amz-request-id');
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(
      res.headers.get('vary'),
      'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    );
  });

  test('an origin pattern with a wildcard port matches', async () => {
    const res = await preflight('/site/k', {
      origin: 'http://localhost:5173',
      'access-control-request-method': 'POST',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  });

  test('a later rule with * answers * without credentials', async () => {
    const res = await preflight('/site/k', {
      origin: 'https://other.example',
      'access-control-request-method': 'GET',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  });

  const NOT_ALLOWED =
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

  for (const [name, headers] of [
    ['origin', { origin: 'https://evil.example', 'access-control-request-method': 'PUT' }],
    ['method', { origin: 'https://app.example', 'access-control-request-method': 'DELETE' }],
    [
      'header',
      {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization',
      },
    ],
  ] as const) {
    test(`denied by ${name}: 403 AccessForbidden, no CORS headers`, async () => {
      const res = await preflight('/site/k', headers);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      const err = await s3Error(res);
      assert.deepEqual([err.Code, err.Message, err.ResourceType], ['AccessForbidden', NOT_ALLOWED, 'OBJECT']);
    });
  }

  test('a bucket without CORS: 403 "CORS is not enabled for this bucket."', async () => {
    const res = await preflight('/bare', {
      origin: 'https://app.example',
      'access-control-request-method': 'GET',
    });
    assert.equal(res.status, 403);
    const err = await s3Error(res);
    assert.deepEqual(
      [err.Code, err.Message, err.ResourceType],
      ['AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.', 'BUCKET'],
    );
  });

  test('no Origin: 400 BadRequest', async () => {
    const res = await preflight('/site/k', { 'access-control-request-method': 'GET' });
    assert.equal(res.status, 400);
    assert.equal((await s3Error(res)).Message, 'Insufficient information. Origin request header needed.');
  });
});

describe('actual cross-origin requests', () => {
  before(async () => {
    await env.s3.send(new PutBucketCorsCommand({ Bucket: 'site', CORSConfiguration: { CORSRules: RULES } }));
  });

  test('the preflight of a presigned PUT URL (its X-Amz-* query signed for PUT) is answered by the CORS rules', async () => {
    const signed = await getSignedUrl(env.s3, new PutObjectCommand({ Bucket: 'site', Key: 'pre.txt' }), {
      expiresIn: 60,
    });
    const url = new URL(signed);
    const res = await preflight(`${url.pathname}${url.search}`, {
      origin: 'https://app.example',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    const denied = await preflight(`${url.pathname}${url.search}`, {
      origin: 'https://evil.example',
      'access-control-request-method': 'PUT',
    });
    assert.equal(denied.status, 403);
  });

  test('a presigned PUT from an allowed origin exposes ETag', async () => {
    const signed = await getSignedUrl(env.s3, new PutObjectCommand({ Bucket: 'site', Key: 'put.txt' }), {
      expiresIn: 60,
    });
    const res = await fetch(signed, {
      method: 'PUT',
      body: 'hello',
      headers: { origin: 'https://app.example' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(res.headers.get('access-control-expose-headers'), 'ETag, x-amz-request-id');
    assert.equal(
      res.headers.get('vary'),
      'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    );
    assert.ok(res.headers.get('etag'));
  });

  test('GET answers carry the headers on success and on error', async () => {
    const signed = await getSignedUrl(
      env.s3,
      new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: 'site', Key: 'put.txt' }),
      { expiresIn: 60 },
    );
    const ok = await fetch(signed, { headers: { origin: 'https://app.example' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(ok.headers.get('access-control-expose-headers'), 'ETag, x-amz-request-id');

    const missing = await fetch(`${env.url}/site/missing.txt`, {
      headers: { origin: 'https://other.example' },
    });
    assert.equal(missing.status, 403);
    assert.equal(missing.headers.get('access-control-allow-origin'), '*');
  });

  test('no headers for an origin no rule allows, or without Origin', async () => {
    const res = await fetch(`${env.url}/site/missing.txt`, {
      method: 'HEAD',
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const plain = await fetch(`${env.url}/site/missing.txt`);
    assert.equal(plain.headers.get('access-control-allow-origin'), null);
  });
});
