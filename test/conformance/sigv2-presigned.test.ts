// Query-string authentication with Signature Version 2 ("Signing and authenticating REST
// requests" › "Query string request authentication alternative"): old clients still hand out
// ?AWSAccessKeyId=…&Expires=…&Signature=… URLs. Built here from the documentation with
// node:crypto, not with @chute/sigv4.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expectError } from './deviations.ts';
import { bytes, errorOf, md5hex, type Suite, tamper, useBucket } from './helpers.ts';

const s = useBucket('sigv2');

/**
 * StringToSign = HTTP-Verb + "\n" + Content-MD5 + "\n" + Content-Type + "\n" + Expires + "\n" +
 * CanonicalizedAmzHeaders + CanonicalizedResource; Signature = Base64(HMAC-SHA1(secret, it)).
 */
function presignV2(
  suite: Suite,
  method: string,
  key: string,
  opts: { expires?: number; contentType?: string } = {},
): string {
  const expires = opts.expires ?? Math.floor(Date.now() / 1000) + 300;
  const path = `/${suite.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const sts = `${method}\n\n${opts.contentType ?? ''}\n${expires}\n${path}`;
  const signature = createHmac('sha1', suite.target.secretAccessKey).update(sts).digest('base64');
  const q = new URLSearchParams({
    AWSAccessKeyId: suite.target.accessKeyId,
    Expires: String(expires),
    Signature: signature,
  });
  return `${suite.target.endpoint}${path}?${q}`;
}

describe('SigV2 presigned URLs', () => {
  const data = bytes(2048, 3);

  it('PUT through a SigV2 URL stores the body (Content-Type signed)', async () => {
    const url = presignV2(s, 'PUT', 'v2/put.bin', { contentType: 'application/octet-stream' });
    const res = await fetch(url, {
      method: 'PUT',
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5hex(data)}"`);
  });

  it('GET through a SigV2 URL returns the bytes', async () => {
    const res = await fetch(presignV2(s, 'GET', 'v2/put.bin'));
    assert.equal(res.status, 200);
    assert.equal(md5hex(Buffer.from(await res.arrayBuffer())), md5hex(data));
    const sdk = await s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'v2/put.bin' }));
    assert.equal(sdk.ContentType, 'application/octet-stream');
  });

  it('a PUT whose Content-Type differs from the signed one: 403 SignatureDoesNotMatch', async () => {
    const url = presignV2(s, 'PUT', 'v2/typed.bin', { contentType: 'image/png' });
    const res = await fetch(url, { method: 'PUT', body: data, headers: { 'content-type': 'text/html' } });
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('a tampered signature: 403 SignatureDoesNotMatch', async () => {
    const url = new URL(presignV2(s, 'GET', 'v2/put.bin'));
    url.searchParams.set('Signature', tamper(url.searchParams.get('Signature')!, 3));
    const res = await fetch(url);
    expectError(s.target, await errorOf(res), 403, 'SignatureDoesNotMatch');
  });

  it('past Expires: 403 AccessDenied', async () => {
    const res = await fetch(
      presignV2(s, 'GET', 'v2/put.bin', { expires: Math.floor(Date.now() / 1000) - 60 }),
    );
    expectError(s.target, await errorOf(res), 403, 'AccessDenied');
  });
});
