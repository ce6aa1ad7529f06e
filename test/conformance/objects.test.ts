// The object operations the gateway's verify/freeze step relies on: HEAD, ranged GET (sniffing the
// first bytes), CopyObject (freezing to an immutable key), DeleteObjects, ListObjectsV2 (sweeper).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { expectError, expectEtag } from './deviations.ts';
import { bytes, errorOf, md5hex, objectUrl, sdkErrorOf, useBucket } from './helpers.ts';

const s = useBucket('objects');

const data = bytes(1000);

describe('HEAD and ranged GET', () => {
  before(async () => {
    await s.s3.send(
      new PutObjectCommand({
        Bucket: s.bucket,
        Key: 'range.bin',
        Body: data,
        ContentType: 'application/octet-stream',
        Metadata: { 'upload-id': 'up_1', 'user-id': 'u_1' },
      }),
    );
  });

  it('HEAD returns type, length, ETag and x-amz-meta-*', async () => {
    const head = await s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: 'range.bin' }));
    assert.equal(head.ContentType, 'application/octet-stream');
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ETag, `"${md5hex(data)}"`);
    assert.deepEqual(head.Metadata, { 'upload-id': 'up_1', 'user-id': 'u_1' });
  });

  it('HEAD of a missing key: 404 NotFound', async () => {
    const err = await sdkErrorOf(s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: 'nope.bin' })));
    expectError(s.target, err, 404, 'NotFound');
  });

  it('bytes=0-9: 206 with Content-Range and only those bytes', async () => {
    const res = await s.s3.send(
      new GetObjectCommand({ Bucket: s.bucket, Key: 'range.bin', Range: 'bytes=0-9' }),
    );
    assert.equal(res.$metadata.httpStatusCode, 206);
    assert.equal(res.ContentRange, `bytes 0-9/${data.length}`);
    assert.equal(res.ContentLength, 10);
    assert.deepEqual(Buffer.from(await res.Body!.transformToByteArray()), data.subarray(0, 10));
  });

  it('a range past the end is cut to the object: 206', async () => {
    const res = await s.s3.send(
      new GetObjectCommand({ Bucket: s.bucket, Key: 'range.bin', Range: 'bytes=990-4095' }),
    );
    assert.equal(res.$metadata.httpStatusCode, 206);
    assert.equal(res.ContentRange, `bytes 990-999/${data.length}`);
    assert.deepEqual(Buffer.from(await res.Body!.transformToByteArray()), data.subarray(990));
  });

  it('suffix bytes=-100: 206 with the last 100 bytes', async () => {
    const res = await s.s3.send(
      new GetObjectCommand({ Bucket: s.bucket, Key: 'range.bin', Range: 'bytes=-100' }),
    );
    assert.equal(res.$metadata.httpStatusCode, 206);
    assert.equal(res.ContentRange, `bytes 900-999/${data.length}`);
    assert.deepEqual(Buffer.from(await res.Body!.transformToByteArray()), data.subarray(900));
  });

  it('a range starting past the end: 416 InvalidRange', async () => {
    const err = await sdkErrorOf(
      s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'range.bin', Range: 'bytes=1000-' })),
    );
    expectError(s.target, err, 416, 'InvalidRange');
  });

  it('a range starting past the end, on the wire: 416 InvalidRange with an XML body', async () => {
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const url = await getSignedUrl(s.s3, new GetObjectCommand({ Bucket: s.bucket, Key: 'range.bin' }), {
      expiresIn: 60,
    });
    const res = await fetch(url, { headers: { range: 'bytes=5000-6000' } });
    expectError(s.target, await errorOf(res), 416, 'InvalidRange');
  });

  it('an unsigned GET of a private object: 403 AccessDenied', async () => {
    expectError(s.target, await errorOf(await fetch(objectUrl(s, 'range.bin'))), 403, 'AccessDenied');
  });
});

describe('CopyObject', () => {
  before(async () => {
    await s.s3.send(
      new PutObjectCommand({
        Bucket: s.bucket,
        Key: 'incoming/src.txt',
        Body: 'frozen bytes',
        ContentType: 'text/plain',
        Metadata: { 'upload-id': 'up_2' },
      }),
    );
  });

  it('COPY keeps content type and metadata', async () => {
    const res = await s.s3.send(
      new CopyObjectCommand({
        Bucket: s.bucket,
        Key: 'files/copy.txt',
        CopySource: `${s.bucket}/incoming/src.txt`,
        MetadataDirective: 'COPY',
      }),
    );
    expectEtag(s.target, res.CopyObjectResult?.ETag, md5hex('frozen bytes'), {
      deviation: 'copy-result-etag-unquoted',
    });
    const head = await s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: 'files/copy.txt' }));
    assert.equal(head.ContentType, 'text/plain');
    assert.deepEqual(head.Metadata, { 'upload-id': 'up_2' });
    assert.equal(head.ContentLength, 'frozen bytes'.length);
  });

  it('REPLACE sets the new content type and metadata', async () => {
    await s.s3.send(
      new CopyObjectCommand({
        Bucket: s.bucket,
        Key: 'files/replace.txt',
        CopySource: `${s.bucket}/incoming/src.txt`,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/json',
        Metadata: { 'upload-id': 'up_2', state: 'verified' },
      }),
    );
    const head = await s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: 'files/replace.txt' }));
    assert.equal(head.ContentType, 'application/json');
    assert.deepEqual(head.Metadata, { 'upload-id': 'up_2', state: 'verified' });
    const got = await s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'files/replace.txt' }));
    assert.equal(await got.Body!.transformToString(), 'frozen bytes');
  });

  it('copying onto itself without REPLACE: 400 InvalidRequest', async () => {
    const err = await sdkErrorOf(
      s.s3.send(
        new CopyObjectCommand({
          Bucket: s.bucket,
          Key: 'incoming/src.txt',
          CopySource: `${s.bucket}/incoming/src.txt`,
        }),
      ),
    );
    expectError(s.target, err, 400, 'InvalidRequest');
  });

  it('copying a missing source: 404 NoSuchKey', async () => {
    const err = await sdkErrorOf(
      s.s3.send(new CopyObjectCommand({ Bucket: s.bucket, Key: 'files/x', CopySource: `${s.bucket}/nope` })),
    );
    expectError(s.target, err, 404, 'NoSuchKey');
  });
});

describe('DeleteObjects and ListObjectsV2', () => {
  const keys = ['list/a/1.txt', 'list/a/2.txt', 'list/b/1.txt', 'list/c.txt', 'list/d.txt', 'other.txt'];
  before(async () => {
    for (const Key of keys) await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key, Body: Key }));
  });

  it('lists by prefix and delimiter: CommonPrefixes then Contents', async () => {
    const res = await s.s3.send(
      new ListObjectsV2Command({ Bucket: s.bucket, Prefix: 'list/', Delimiter: '/' }),
    );
    assert.deepEqual(
      res.CommonPrefixes?.map((p) => p.Prefix),
      ['list/a/', 'list/b/'],
    );
    assert.deepEqual(
      res.Contents?.map((o) => o.Key),
      ['list/c.txt', 'list/d.txt'],
    );
    assert.equal(res.KeyCount, 4);
    assert.equal(res.IsTruncated, false);
    assert.equal(res.Contents?.[0]?.Size, 'list/c.txt'.length);
    assert.equal(res.Contents?.[0]?.ETag, `"${md5hex('list/c.txt')}"`);
  });

  it('paginates with MaxKeys and ContinuationToken', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s.s3.send(
        new ListObjectsV2Command({ Bucket: s.bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages++;
      assert.ok((page.KeyCount ?? 0) <= 2);
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      assert.equal(page.IsTruncated, page.NextContinuationToken !== undefined);
      token = page.NextContinuationToken;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen, keys.filter((k) => k.startsWith('list/')).sort());
  });

  it('StartAfter skips keys up to and including it', async () => {
    const res = await s.s3.send(
      new ListObjectsV2Command({ Bucket: s.bucket, Prefix: 'list/', StartAfter: 'list/b/1.txt' }),
    );
    assert.deepEqual(
      res.Contents?.map((o) => o.Key),
      ['list/c.txt', 'list/d.txt'],
    );
  });

  it('DeleteObjects deletes the keys and reports missing ones as deleted', async () => {
    const res = await s.s3.send(
      new DeleteObjectsCommand({
        Bucket: s.bucket,
        Delete: { Objects: [{ Key: 'list/a/1.txt' }, { Key: 'list/a/2.txt' }, { Key: 'list/never.txt' }] },
      }),
    );
    assert.deepEqual(res.Deleted?.map((d) => d.Key).sort(), [
      'list/a/1.txt',
      'list/a/2.txt',
      'list/never.txt',
    ]);
    assert.equal(res.Errors, undefined);
    const left = await s.s3.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: 'list/a/' }));
    assert.equal(left.KeyCount, 0);
  });

  it('listing a missing bucket: 404 NoSuchBucket', async () => {
    const err = await sdkErrorOf(s.s3.send(new ListObjectsV2Command({ Bucket: `${s.bucket}-missing` })));
    expectError(s.target, err, 404, 'NoSuchBucket');
  });
});
