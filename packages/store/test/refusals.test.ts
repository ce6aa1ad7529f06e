import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  CREDS,
  codeOf,
  md5b64,
  presign,
  type Running,
  rawRequest,
  sha256hex,
  signFor,
  startStore,
} from './helpers.ts';

/**
 * One refusal per test, over raw HTTP: the status and S3 error code a client sees for one bad
 * input (named in the test title).
 */
describe('refusals', () => {
  let r: Running;
  const B = 'refusals';
  const put = (
    key: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
    payloadHash?: string,
  ) => {
    const s = signFor(r.url, 'PUT', `/${B}/${key}`, { headers, payloadHash: payloadHash ?? sha256hex(body) });
    return rawRequest(s.url, {
      method: 'PUT',
      headers: { ...s.headers, 'content-length': Buffer.byteLength(body) },
      body,
    });
  };
  const req = (
    method: string,
    p: string,
    init: { headers?: Record<string, string>; query?: Record<string, string>; body?: string } = {},
  ) => {
    const body = init.body ?? '';
    const s = signFor(r.url, method, p, {
      headers: init.headers,
      query: init.query,
      payloadHash: sha256hex(body),
    });
    return rawRequest(s.url, {
      method,
      headers: { ...s.headers, 'content-length': Buffer.byteLength(body) },
      body,
    });
  };
  const expectError = (res: { status: number; body: string }, status: number, code: string) => {
    assert.equal(res.status, status, res.body);
    assert.equal(codeOf(res.body), code, res.body);
  };

  before(async () => {
    r = await startStore({ buckets: [B] });
    await put('ten.txt', '0123456789');
  });
  after(() => r.stop());

  test('anonymous ListBuckets → 403 AccessDenied', async () => {
    expectError(await rawRequest(`${r.url}/`, { method: 'GET' }), 403, 'AccessDenied');
  });
  test('anonymous GET on a private bucket → 403 AccessDenied', async () => {
    expectError(await rawRequest(`${r.url}/${B}/ten.txt`, { method: 'GET' }), 403, 'AccessDenied');
  });
  test('anonymous GET on a missing bucket → 404 NoSuchBucket', async () => {
    expectError(await rawRequest(`${r.url}/no-such-bucket/x`, { method: 'GET' }), 404, 'NoSuchBucket');
  });
  test('canned ACLs: a public-read bucket lists anonymously, its objects read only with their own grant; anonymous PUT refused; public-read-write allows PUT', async () => {
    const res = await req('PUT', '/pub-bucket', { headers: { 'x-amz-acl': 'public-read' } });
    assert.equal(res.status, 200, res.body);
    // The bucket's grant lists; an object is read anonymously only with its own public-read grant.
    const s = signFor(r.url, 'PUT', '/pub-bucket/k', {
      payloadHash: sha256hex('v'),
      headers: { 'x-amz-acl': 'public-read' },
    });
    await rawRequest(s.url, { method: 'PUT', headers: { ...s.headers, 'content-length': 1 }, body: 'v' });
    const get = await rawRequest(`${r.url}/pub-bucket/k`, { method: 'GET' });
    assert.deepEqual([get.status, get.body], [200, 'v']);
    const p = signFor(r.url, 'PUT', '/pub-bucket/private', { payloadHash: sha256hex('v') });
    await rawRequest(p.url, { method: 'PUT', headers: { ...p.headers, 'content-length': 1 }, body: 'v' });
    expectError(await rawRequest(`${r.url}/pub-bucket/private`, { method: 'GET' }), 403, 'AccessDenied');
    assert.equal((await rawRequest(`${r.url}/pub-bucket?list-type=2`, { method: 'GET' })).status, 200);
    expectError(
      await rawRequest(`${r.url}/pub-bucket/k2`, {
        method: 'PUT',
        headers: { 'content-length': 1 },
        body: 'v',
      }),
      403,
      'AccessDenied',
    );
    expectError(await rawRequest(`${r.url}/pub-bucket/k`, { method: 'DELETE' }), 403, 'AccessDenied');
    assert.equal(
      (await req('PUT', '/pub-bucket', { query: { acl: '' }, headers: { 'x-amz-acl': 'public-read-write' } }))
        .status,
      200,
    );
    const anonPut = await rawRequest(`${r.url}/pub-bucket/k2`, {
      method: 'PUT',
      headers: { 'content-length': 1 },
      body: 'w',
    });
    assert.equal(anonPut.status, 200, anonPut.body);
    expectError(
      await rawRequest(`${r.url}/pub-bucket?acl`, { method: 'PUT', headers: { 'x-amz-acl': 'private' } }),
      403,
      'AccessDenied',
    );
  });
  test('anonymous GET with response-content-type override → 400 InvalidRequest', async () => {
    await req('PUT', '/pub-bucket', { query: { acl: '' }, headers: { 'x-amz-acl': 'public-read' } });
    expectError(
      await rawRequest(`${r.url}/pub-bucket/k?response-content-type=text/html`, { method: 'GET' }),
      400,
      'InvalidRequest',
    );
  });
  test('wrong secret key → 403 SignatureDoesNotMatch', async () => {
    const s = signFor(r.url, 'GET', `/${B}/ten.txt`);
    const auth = s.headers.authorization!.replace(/Signature=[0-9a-f]+/, `Signature=${'0'.repeat(64)}`);
    expectError(
      await rawRequest(s.url, { method: 'GET', headers: { ...s.headers, authorization: auth } }),
      403,
      'SignatureDoesNotMatch',
    );
  });
  test('unknown access key → 403 InvalidAccessKeyId', async () => {
    const s = signFor(r.url, 'GET', `/${B}/ten.txt`);
    const auth = s.headers.authorization!.replace(CREDS.accessKeyId, 'AKIDUNKNOWN00');
    expectError(
      await rawRequest(s.url, { method: 'GET', headers: { ...s.headers, authorization: auth } }),
      403,
      'InvalidAccessKeyId',
    );
  });
  test('presigned PUT and GET work; PUT without Content-Length (chunked) → 411 MissingContentLength', async () => {
    const ok = await rawRequest(presign(r.url, 'PUT', `/${B}/presigned`), {
      method: 'PUT',
      headers: { 'content-length': 2 },
      body: 'ok',
    });
    assert.equal(ok.status, 200, ok.body);
    assert.equal((await rawRequest(presign(r.url, 'GET', `/${B}/presigned`), { method: 'GET' })).body, 'ok');
    expectError(
      await rawRequest(presign(r.url, 'PUT', `/${B}/nolen`), { method: 'PUT', body: 'abc' }),
      411,
      'MissingContentLength',
    );
  });
  test('Content-Length over 5 GiB on PUT → 400 EntityTooLarge (refused before the body)', async () => {
    const res = await rawRequest(presign(r.url, 'PUT', `/${B}/huge`), {
      method: 'PUT',
      headers: { 'content-length': String(5 * 1024 ** 3 + 1) },
      holdBody: true,
    });
    expectError(res, 400, 'EntityTooLarge');
  });
  test('Expect: 100-continue with a body over 5 GiB → 400 EntityTooLarge before any 100 Continue', async () => {
    const res = await rawRequest(presign(r.url, 'PUT', `/${B}/huge2`), {
      method: 'PUT',
      headers: { 'content-length': String(6 * 1024 ** 3), expect: '100-continue' },
      holdBody: true,
    });
    expectError(res, 400, 'EntityTooLarge');
  });
  test('Expect: 100-continue on an accepted PUT gets 100 Continue and stores the body', async () => {
    const url = presign(r.url, 'PUT', `/${B}/continued`);
    const status = await new Promise<number>((resolve, reject) => {
      const q = http.request(
        url,
        { method: 'PUT', headers: { 'content-length': 5, expect: '100-continue' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      q.on('continue', () => q.end('hello'));
      q.on('error', reject);
      q.flushHeaders();
    });
    assert.equal(status, 200);
    assert.equal((await req('GET', `/${B}/continued`)).body, 'hello');
  });
  test('malformed Content-MD5 → 400 InvalidDigest', async () => {
    expectError(await put('md5', 'abc', { 'content-md5': 'not-base64!' }), 400, 'InvalidDigest');
  });
  test('Content-MD5 of other bytes → 400 BadDigest, and no object', async () => {
    expectError(await put('md5', 'abc', { 'content-md5': md5b64('abd') }), 400, 'BadDigest');
    expectError(await req('GET', `/${B}/md5`), 404, 'NoSuchKey');
  });
  test('x-amz-content-sha256 of other bytes → 400 XAmzContentSHA256Mismatch', async () => {
    expectError(await put('sha', 'abc', {}, sha256hex('abd')), 400, 'XAmzContentSHA256Mismatch');
  });
  test('x-amz-checksum-crc32 of other bytes → 400 BadDigest', async () => {
    const wrong = Buffer.alloc(4);
    wrong.writeUInt32BE(crc32(Buffer.from('abd')));
    expectError(
      await put('crc', 'abc', { 'x-amz-checksum-crc32': wrong.toString('base64') }),
      400,
      'BadDigest',
    );
  });
  test('x-amz-checksum-crc32 not 4 bytes of base64 → 400 InvalidRequest', async () => {
    expectError(await put('crc', 'abc', { 'x-amz-checksum-crc32': 'AAAAAAAA' }), 400, 'InvalidRequest');
  });
  test('two x-amz-checksum-* headers → 400 InvalidRequest', async () => {
    expectError(
      await put('crc', 'abc', { 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-crc32c': 'AAAAAA==' }),
      400,
      'InvalidRequest',
    );
  });
  /** A PUT of an unsigned aws-chunked `body` announcing `decoded` bytes. */
  const putChunked = (key: string, body: string, decoded: number) => {
    const s = signFor(r.url, 'PUT', `/${B}/${key}`, {
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(decoded) },
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    return rawRequest(s.url, {
      method: 'PUT',
      headers: { ...s.headers, 'content-length': body.length },
      body,
    });
  };
  test('aws-chunked body shorter than x-amz-decoded-content-length → 400 IncompleteBody', async () => {
    expectError(await putChunked('short', '5\r\nhello\r\n0\r\n\r\n', 10), 400, 'IncompleteBody');
  });
  test('aws-chunked chunk of 4096 bytes followed by more data → 400 InvalidChunkSizeError', async () => {
    const piece = 'a'.repeat(4096);
    const res = await putChunked('small-chunks', `1000\r\n${piece}\r\n1000\r\n${piece}\r\n0\r\n\r\n`, 8192);
    expectError(res, 400, 'InvalidChunkSizeError');
    assert.match(res.body, /<Chunk>2<\/Chunk><BadChunkSize>4096<\/BadChunkSize>/);
    const head = await req('HEAD', `/${B}/small-chunks`);
    assert.equal(head.status, 404);
  });
  test('key of 1025 bytes → 400 KeyTooLongError', async () => {
    expectError(await put('k'.repeat(1025), 'x'), 400, 'KeyTooLongError');
  });
  test('key with NUL → 400 InvalidArgument', async () => {
    expectError(await put('a\u0000b', 'x'), 400, 'InvalidArgument');
  });
  test('user metadata over 2 KB → 400 MetadataTooLarge', async () => {
    expectError(await put('meta', 'x', { 'x-amz-meta-big': 'v'.repeat(2100) }), 400, 'MetadataTooLarge');
  });
  test('x-amz-storage-class GLACIER → 400 InvalidStorageClass', async () => {
    expectError(await put('sc', 'x', { 'x-amz-storage-class': 'GLACIER' }), 400, 'InvalidStorageClass');
  });
  test('bucket name "Bad_Bucket" → 400 InvalidBucketName', async () => {
    expectError(await req('PUT', '/Bad_Bucket'), 400, 'InvalidBucketName');
  });
  test('x-amz-acl "world-writable" on CreateBucket → 400 InvalidArgument', async () => {
    expectError(
      await req('PUT', '/acl-bucket', { headers: { 'x-amz-acl': 'world-writable' } }),
      400,
      'InvalidArgument',
    );
  });
  test('LocationConstraint of another region → 400 InvalidLocationConstraint', async () => {
    const body =
      '<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>';
    expectError(await req('PUT', '/loc-bucket', { body }), 400, 'InvalidLocationConstraint');
  });
  test('GET of a missing key → 404 NoSuchKey with Key, Resource and RequestId', async () => {
    const res = await req('GET', `/${B}/missing`);
    expectError(res, 404, 'NoSuchKey');
    assert.match(res.body, /<Key>missing<\/Key>/);
    assert.match(res.body, new RegExp(`<Resource>/${B}/missing</Resource>`));
    assert.match(res.body, new RegExp(`<RequestId>${res.headers['x-amz-request-id']}</RequestId>`));
  });
  test('HEAD of a missing key → 404 without a body', async () => {
    const res = await req('HEAD', `/${B}/missing`);
    assert.deepEqual([res.status, res.body], [404, '']);
  });
  test('Range "bytes=10-" on 10 bytes → 416 InvalidRange with Content-Range bytes */10', async () => {
    const res = await req('GET', `/${B}/ten.txt`, { headers: { range: 'bytes=10-' } });
    expectError(res, 416, 'InvalidRange');
    assert.equal(res.headers['content-range'], 'bytes */10');
  });
  test('If-Match with another ETag → 412 PreconditionFailed', async () => {
    expectError(
      await req('GET', `/${B}/ten.txt`, { headers: { 'if-match': '"abc"' } }),
      412,
      'PreconditionFailed',
    );
  });
  test('If-Unmodified-Since in the past → 412; If-Modified-Since in the future → 304', async () => {
    expectError(
      await req('GET', `/${B}/ten.txt`, {
        headers: { 'if-unmodified-since': 'Sat, 01 Jan 2000 00:00:00 GMT' },
      }),
      412,
      'PreconditionFailed',
    );
    const res = await req('GET', `/${B}/ten.txt`, {
      headers: { 'if-modified-since': new Date(Date.now() + 86400e3).toUTCString() },
    });
    assert.equal(res.status, 304);
  });
  test('If-Match matching wins over a failing If-Unmodified-Since (S3 precedence) → 200', async () => {
    const head = await req('HEAD', `/${B}/ten.txt`);
    const res = await req('GET', `/${B}/ten.txt`, {
      headers: {
        'if-match': String(head.headers.etag),
        'if-unmodified-since': 'Sat, 01 Jan 2000 00:00:00 GMT',
      },
    });
    assert.equal(res.status, 200);
  });
  test('PUT with If-None-Match: * onto an existing key → 412 PreconditionFailed; onto a new key → 200', async () => {
    expectError(await put('ten.txt', 'new', { 'if-none-match': '*' }), 412, 'PreconditionFailed');
    assert.equal((await put('fresh-key', 'new', { 'if-none-match': '*' })).status, 200);
  });
  test('PUT with If-Match of another ETag → 412 PreconditionFailed', async () => {
    expectError(await put('ten.txt', 'new', { 'if-match': '"0123"' }), 412, 'PreconditionFailed');
  });
  test('DeleteObjects without Content-MD5 → 400 InvalidRequest', async () => {
    const body = '<Delete><Object><Key>a</Key></Object></Delete>';
    expectError(await req('POST', `/${B}`, { query: { delete: '' }, body }), 400, 'InvalidRequest');
  });
  test('DeleteObjects with malformed XML → 400 MalformedXML', async () => {
    const body = '<Delete><Object><Key>a</Key></Object>';
    expectError(
      await req('POST', `/${B}`, { query: { delete: '' }, body, headers: { 'content-md5': md5b64(body) } }),
      400,
      'MalformedXML',
    );
  });
  test('CompleteMultipartUpload with no parts → 400 MalformedXML', async () => {
    const init = await req('POST', `/${B}/mp`, { query: { uploads: '' } });
    const uploadId = /<UploadId>([^<]+)</.exec(init.body)![1]!;
    expectError(
      await req('POST', `/${B}/mp`, {
        query: { uploadId },
        body: '<CompleteMultipartUpload></CompleteMultipartUpload>',
      }),
      400,
      'MalformedXML',
    );
  });
  test('UploadPart partNumber=10001 → 400 InvalidArgument', async () => {
    const init = await req('POST', `/${B}/mp2`, { query: { uploads: '' } });
    const uploadId = /<UploadId>([^<]+)</.exec(init.body)![1]!;
    const s = signFor(r.url, 'PUT', `/${B}/mp2`, {
      query: { partNumber: '10001', uploadId },
      payloadHash: sha256hex('x'),
    });
    expectError(
      await rawRequest(s.url, { method: 'PUT', headers: { ...s.headers, 'content-length': 1 }, body: 'x' }),
      400,
      'InvalidArgument',
    );
  });
  test('UploadPart to an unknown uploadId → 404 NoSuchUpload', async () => {
    const s = signFor(r.url, 'PUT', `/${B}/mp3`, {
      query: { partNumber: '1', uploadId: 'f'.repeat(32) },
      payloadHash: sha256hex('x'),
    });
    expectError(
      await rawRequest(s.url, { method: 'PUT', headers: { ...s.headers, 'content-length': 1 }, body: 'x' }),
      404,
      'NoSuchUpload',
    );
  });
  test('CopyObject with x-amz-metadata-directive "MERGE" → 400 InvalidArgument', async () => {
    expectError(
      await req('PUT', `/${B}/copy`, {
        headers: { 'x-amz-copy-source': `/${B}/ten.txt`, 'x-amz-metadata-directive': 'MERGE' },
      }),
      400,
      'InvalidArgument',
    );
  });
  test('CopyObject from a missing key → 404 NoSuchKey', async () => {
    expectError(
      await req('PUT', `/${B}/copy`, { headers: { 'x-amz-copy-source': `/${B}/nothing` } }),
      404,
      'NoSuchKey',
    );
  });
  test('DeleteBucket of a bucket with objects → 409 BucketNotEmpty', async () => {
    expectError(await req('DELETE', `/${B}`), 409, 'BucketNotEmpty');
  });
  test('unsupported sub-resource ?versioning → 501 NotImplemented', async () => {
    expectError(await req('GET', `/${B}`, { query: { versioning: '' } }), 501, 'NotImplemented');
  });
  test('POST to an object without ?uploads/?uploadId → 405 MethodNotAllowed', async () => {
    expectError(await req('POST', `/${B}/ten.txt`), 405, 'MethodNotAllowed');
  });
  test('malformed percent-encoding in the path → 400 InvalidURI', async () => {
    expectError(await rawRequest(`${r.url}/${B}/%E0%A4%A`, { method: 'GET' }), 400, 'InvalidURI');
  });
  test('virtual-hosted-style request (bucket.localhost) reaches the bucket', async () => {
    const port = new URL(r.url).port;
    const s = signFor(`http://${B}.localhost:${port}`, 'GET', '/ten.txt');
    const res = await rawRequest(`${r.url}/ten.txt`, { method: 'GET', headers: s.headers });
    assert.deepEqual([res.status, res.body], [200, '0123456789']);
  });
});
