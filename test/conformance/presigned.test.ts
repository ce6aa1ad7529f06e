// Presigned PUT and GET URLs, as the gateway hands them to browsers: the storage must refuse any
// request whose signed headers differ from what was signed, and any URL past its expiry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { deviates, expectError } from './deviations.ts';
import { errorOf, md5hex, s3Client, sdkErrorOf, sha256b64, tamper, useBucket } from './helpers.ts';

const s = useBucket('presigned');

const body = 'hello, presigned world';
const meta = { 'upload-id': 'up_123', 'user-id': 'u_42' };

/** A presigned PUT with content-type, content-length and x-amz-meta-* as signed headers. */
async function presignPut(
  key: string,
  opts: { checksum?: string; expiresIn?: number; signingDate?: Date } = {},
) {
  const command = new PutObjectCommand({
    Bucket: s.bucket,
    Key: key,
    ContentType: 'text/plain',
    ContentLength: Buffer.byteLength(body),
    Metadata: meta,
    ...(opts.checksum ? { ChecksumSHA256: opts.checksum } : {}),
  });
  return getSignedUrl(s.s3, command, {
    expiresIn: opts.expiresIn ?? 300,
    ...(opts.signingDate ? { signingDate: opts.signingDate } : {}),
    signableHeaders: new Set(['content-type', 'content-length']),
    // x-amz-* would be hoisted into the query (then anyone may omit them): keep them headers.
    unhoistableHeaders: new Set(['x-amz-meta-upload-id', 'x-amz-meta-user-id', 'x-amz-checksum-sha256']),
  });
}

const goodHeaders = {
  'content-type': 'text/plain',
  'x-amz-meta-upload-id': meta['upload-id'],
  'x-amz-meta-user-id': meta['user-id'],
};

describe('presigned PUT', () => {
  it('signs the headers, not the query', async () => {
    const url = new URL(await presignPut('signed-headers.txt'));
    const signed = url.searchParams.get('X-Amz-SignedHeaders')?.split(';');
    assert.deepEqual(signed, [
      'content-length',
      'content-type',
      'host',
      'x-amz-meta-upload-id',
      'x-amz-meta-user-id',
    ]);
  });

  it('accepts the request that matches the signature (200) and stores type and metadata', async () => {
    const res = await fetch(await presignPut('ok.txt'), { method: 'PUT', body, headers: goodHeaders });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5hex(body)}"`);
    const head = await s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: 'ok.txt' }));
    assert.equal(head.ContentType, 'text/plain');
    assert.equal(head.ContentLength, Buffer.byteLength(body));
    assert.deepEqual(head.Metadata, meta);
  });

  it('refuses another Content-Type: 403 SignatureDoesNotMatch', async () => {
    const res = await fetch(await presignPut('type.txt'), {
      method: 'PUT',
      body,
      headers: { ...goodHeaders, 'content-type': 'text/html' },
    });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('refuses another length: 403 SignatureDoesNotMatch', async () => {
    const res = await fetch(await presignPut('length.txt'), {
      method: 'PUT',
      body: `${body} and then some more bytes`,
      headers: goodHeaders,
    });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('refuses other metadata: 403 SignatureDoesNotMatch', async () => {
    const res = await fetch(await presignPut('meta.txt'), {
      method: 'PUT',
      body,
      headers: { ...goodHeaders, 'x-amz-meta-user-id': 'u_attacker' },
    });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('refuses a request that leaves out a signed metadata header: 403 SignatureDoesNotMatch', async () => {
    const { 'x-amz-meta-user-id': _dropped, ...headers } = goodHeaders;
    const res = await fetch(await presignPut('meta-missing.txt'), { method: 'PUT', body, headers });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('refuses an expired URL: 403 AccessDenied', async () => {
    const url = await presignPut('expired.txt', {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 120_000),
    });
    const res = await fetch(url, { method: 'PUT', body, headers: goodHeaders });
    expectError(s.target, await errorOf(res), 403, 'AccessDenied');
  });

  it('refuses a tampered signature: 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await presignPut('tampered-sig.txt'));
    url.searchParams.set('X-Amz-Signature', tamper(url.searchParams.get('X-Amz-Signature')!));
    const res = await fetch(url, { method: 'PUT', body, headers: goodHeaders });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('refuses a tampered query (longer expiry): 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await presignPut('tampered-query.txt', { expiresIn: 60 }));
    url.searchParams.set('X-Amz-Expires', '604800');
    const res = await fetch(url, { method: 'PUT', body, headers: goodHeaders });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('refuses the URL used for another key: 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await presignPut('mine.txt'));
    url.pathname = url.pathname.replace('mine.txt', 'theirs.txt');
    const res = await fetch(url, { method: 'PUT', body, headers: goodHeaders });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  describe('with a signed x-amz-checksum-sha256', () => {
    const checksum = sha256b64(body);
    const withChecksum = { ...goodHeaders, 'x-amz-checksum-sha256': checksum };

    it('accepts the matching body (200)', async () => {
      const res = await fetch(await presignPut('sum-ok.txt', { checksum }), {
        method: 'PUT',
        body,
        headers: withChecksum,
      });
      assert.equal(res.status, 200, await res.text());
    });

    it('refuses another checksum header: 403 SignatureDoesNotMatch', async () => {
      const res = await fetch(await presignPut('sum-header.txt', { checksum }), {
        method: 'PUT',
        body,
        headers: { ...withChecksum, 'x-amz-checksum-sha256': sha256b64('other') },
      });
      expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
    });

    it('refuses a body that does not match the checksum: 400 BadDigest', async () => {
      // Same length, other bytes: only the checksum can tell.
      const forged = body.toUpperCase();
      const res = await fetch(await presignPut('sum-body.txt', { checksum }), {
        method: 'PUT',
        body: forged,
        headers: withChecksum,
      });
      if (deviates(s.target, 'checksum-not-validated')) {
        assert.equal(res.status, 200, 'deviation checksum-not-validated: the engine now checks checksums');
        return;
      }
      expectError(s.target, await errorOf(res), 400, 'BadDigest');
    });
  });
});

describe('presigned GET', () => {
  it('serves the object (200) and honours a signed response-content-disposition', async () => {
    await s.s3.send(
      new PutObjectCommand({ Bucket: s.bucket, Key: 'get.txt', Body: body, ContentType: 'text/plain' }),
    );
    const url = await getSignedUrl(
      s.s3,
      new GetObjectCommand({
        Bucket: s.bucket,
        Key: 'get.txt',
        ResponseContentDisposition: 'attachment; filename="report.txt"',
      }),
      { expiresIn: 60 },
    );
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), body);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="report.txt"');
  });

  it('refuses an expired URL: 403 AccessDenied', async () => {
    const url = await getSignedUrl(s.s3, new GetObjectCommand({ Bucket: s.bucket, Key: 'get.txt' }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 120_000),
    });
    expectError(s.target, await errorOf(await fetch(url)), 403, 'AccessDenied');
  });

  it('refuses a tampered signature: 403 SignatureDoesNotMatch', async () => {
    const url = new URL(
      await getSignedUrl(s.s3, new GetObjectCommand({ Bucket: s.bucket, Key: 'get.txt' }), { expiresIn: 60 }),
    );
    url.searchParams.set('X-Amz-Signature', tamper(url.searchParams.get('X-Amz-Signature')!));
    expectError(s.target, await errorOf(await fetch(url)), 403, 'SignatureDoesNotMatch');
  });

  it('refuses a signature scoped to another region: 400 AuthorizationHeaderMalformed', async () => {
    const other = s3Client({
      ...s.target,
      region: s.target.region === 'eu-west-3' ? 'us-west-2' : 'eu-west-3',
    });
    try {
      const call = other.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'get.txt' }));
      if (deviates(s.target, 'region-not-checked')) {
        const res = await call;
        assert.equal(
          res.$metadata.httpStatusCode,
          200,
          'deviation region-not-checked: the engine now checks',
        );
        return;
      }
      expectError(s.target, await sdkErrorOf(call), 400, 'AuthorizationHeaderMalformed');
    } finally {
      other.destroy();
    }
  });

  it('answers 404 NoSuchKey for a missing key (SDK)', async () => {
    const err = await sdkErrorOf(s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'missing.txt' })));
    expectError(s.target, err, 404, 'NoSuchKey');
  });
});
