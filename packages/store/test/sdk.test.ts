import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketAclCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { client, md5hex, type Running, startStore } from './helpers.ts';

const MiB = 1024 * 1024;

for (const mode of ['default', 'WHEN_REQUIRED'] as const) {
  describe(`AWS SDK v3 (${mode} checksums)`, () => {
    let r: Running;
    let s3: S3Client;
    const B = `sdk-${mode === 'default' ? 'def' : 'req'}`;
    before(async () => {
      r = await startStore();
      s3 = client(r.url, mode === 'default' ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED' });
      await s3.send(new CreateBucketCommand({ Bucket: B }));
    });
    after(async () => {
      s3.destroy();
      await r.stop();
    });

    test('buckets: list, head, location, acl, already owned', async () => {
      const list = await s3.send(new ListBucketsCommand({}));
      assert.deepEqual(
        list.Buckets?.map((b) => b.Name),
        [B],
      );
      await s3.send(new HeadBucketCommand({ Bucket: B }));
      const loc = await s3.send(new GetBucketLocationCommand({ Bucket: B }));
      assert.equal(loc.LocationConstraint ?? '', '');
      // us-east-1's legacy answer to re-creating an owned bucket (409 elsewhere: create-bucket.test.ts).
      const again = await s3.send(new CreateBucketCommand({ Bucket: B }));
      assert.equal(again.$metadata.httpStatusCode, 200);
      await s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'public-read' }));
      const acl = await s3.send(new GetBucketAclCommand({ Bucket: B }));
      assert.ok(acl.Grants?.some((g) => g.Permission === 'READ' && g.Grantee?.URI?.endsWith('AllUsers')));
      await s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'private' }));
    });

    test('put/get/head/delete with metadata, content headers and MD5 ETag', async () => {
      const body = 'hello, chute';
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: 'dir/hello.txt',
          Body: body,
          ContentType: 'text/plain',
          CacheControl: 'max-age=60',
          ContentDisposition: 'attachment',
          Metadata: { 'upload-id': 'u1', 'user-id': 'alice' },
        }),
      );
      assert.equal(put.ETag, `"${md5hex(body)}"`);
      const get = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'dir/hello.txt' }));
      assert.equal(await get.Body?.transformToString(), body);
      assert.equal(get.ContentType, 'text/plain');
      assert.equal(get.CacheControl, 'max-age=60');
      assert.equal(get.ContentDisposition, 'attachment');
      assert.deepEqual(get.Metadata, { 'upload-id': 'u1', 'user-id': 'alice' });
      const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'dir/hello.txt' }));
      assert.equal(head.ContentLength, body.length);
      assert.equal(head.ETag, put.ETag);
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'dir/hello.txt' }));
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'dir/hello.txt' })), {
        name: 'NotFound',
      });
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'dir/hello.txt' })), {
        name: 'NoSuchKey',
      });
      // Deleting a missing key is not an error.
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'dir/hello.txt' }));
    });

    test('streamed body of unknown length (aws-chunked when the SDK adds a trailing checksum)', async () => {
      const data = randomBytes(3 * MiB + 17);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: 'stream.bin',
          Body: Readable.from([data.subarray(0, MiB), data.subarray(MiB)]),
          ContentLength: data.length,
        }),
      );
      assert.equal(put.ETag, `"${md5hex(data)}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'stream.bin' }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    });

    test('a large streamed body (staged; in the default mode aws-chunked, one chunk of 20 MiB) keeps its bytes in order', async () => {
      // Large enough for the staged writer, so the ring fills and writes wait while one socket
      // read still holds more decoded pieces. The SDK makes each stream piece one aws-chunked
      // chunk: the 20 MiB piece is a 20 MiB chunk, which S3 takes.
      const data = randomBytes(24 * MiB + 17);
      const pieces = [data.subarray(0, MiB), data.subarray(MiB, 21 * MiB), data.subarray(21 * MiB)];
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: 'big-stream.bin',
          Body: Readable.from(pieces),
          ContentLength: data.length,
        }),
      );
      assert.equal(put.ETag, `"${md5hex(data)}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big-stream.bin' }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    });

    test('flexible checksums: SHA256 and CRC32C are verified, stored and returned with ChecksumMode', async () => {
      for (const algo of ['SHA256', 'CRC32C', 'CRC32', 'SHA1'] as const) {
        const key = `sum-${algo}`;
        const put = await s3.send(
          new PutObjectCommand({ Bucket: B, Key: key, Body: `data for ${algo}`, ChecksumAlgorithm: algo }),
        );
        const field = `Checksum${algo}` as const;
        assert.ok(put[field], `${algo} returned on PUT`);
        const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
        assert.equal(head[field], put[field]);
      }
    });

    test('ranges: first bytes, open range, suffix range', async () => {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: 'range.txt', Body: '0123456789' }));
      const get = async (Range: string) => {
        const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'range.txt', Range }));
        return [await g.Body!.transformToString(), g.ContentRange];
      };
      assert.deepEqual(await get('bytes=0-3'), ['0123', 'bytes 0-3/10']);
      assert.deepEqual(await get('bytes=7-'), ['789', 'bytes 7-9/10']);
      assert.deepEqual(await get('bytes=-2'), ['89', 'bytes 8-9/10']);
      assert.deepEqual(await get('bytes=5-100'), ['56789', 'bytes 5-9/10']);
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket: B, Key: 'range.txt', Range: 'bytes=10-' })),
        { name: 'InvalidRange' },
      );
    });

    test('conditional GET: If-None-Match → 304, If-Match mismatch → 412', async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond.txt', Body: 'x' }));
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfNoneMatch: put.ETag })),
        (e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode === 304,
      );
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfMatch: '"nope"' })), {
        name: 'PreconditionFailed',
      });
      const ok = await s3.send(
        new GetObjectCommand({
          Bucket: B,
          Key: 'cond.txt',
          IfMatch: put.ETag,
          ResponseContentType: 'application/x-test',
        }),
      );
      assert.equal(ok.ContentType, 'application/x-test');
      await ok.Body?.transformToString();
    });

    test('keys: unicode, "..", "//", trailing slash, 1024 bytes round-trip and list in UTF-8 order', async () => {
      const keys = [
        '../etc/passwd',
        'a//b',
        'dir/',
        'ünï/cødé 🙂.txt',
        'k'.repeat(1024),
        '\uFFFD',
        '\u{1F600}',
        'a+b c%2F',
      ];
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: B, Key, Body: Key }));
      for (const Key of keys) {
        const g = await s3.send(new GetObjectCommand({ Bucket: B, Key }));
        assert.equal(await g.Body!.transformToString(), Key);
      }
      const list = await s3.send(new ListObjectsV2Command({ Bucket: B }));
      const listed = list.Contents!.map((c) => c.Key!);
      const sorted = [...listed].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(listed, sorted);
      for (const k of keys) assert.ok(listed.includes(k), k);
      for (const Key of keys) await s3.send(new DeleteObjectCommand({ Bucket: B, Key }));
    });

    test('listing: prefix, delimiter, pagination v1/v2, versions', async () => {
      const keys = ['p/a', 'p/b/1', 'p/b/2', 'p/c', 'p/d/x', 'q'];
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: B, Key, Body: 'x' }));
      const v2 = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'p/', Delimiter: '/' }));
      assert.deepEqual(
        v2.Contents?.map((c) => c.Key),
        ['p/a', 'p/c'],
      );
      assert.deepEqual(
        v2.CommonPrefixes?.map((c) => c.Prefix),
        ['p/b/', 'p/d/'],
      );
      assert.equal(v2.KeyCount, 4);
      // Paging one entry at a time walks keys and prefixes in order, each once.
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: B,
            Prefix: 'p/',
            Delimiter: '/',
            MaxKeys: 1,
            ContinuationToken: token,
          }),
        );
        seen.push(
          ...(page.Contents ?? []).map((c) => c.Key!),
          ...(page.CommonPrefixes ?? []).map((c) => c.Prefix!),
        );
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      assert.deepEqual(seen, ['p/a', 'p/b/', 'p/c', 'p/d/']);
      const v1seen: string[] = [];
      let marker: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsCommand({ Bucket: B, Prefix: 'p/', Delimiter: '/', MaxKeys: 1, Marker: marker }),
        );
        v1seen.push(
          ...(page.Contents ?? []).map((c) => c.Key!),
          ...(page.CommonPrefixes ?? []).map((c) => c.Prefix!),
        );
        marker = page.IsTruncated ? page.NextMarker : undefined;
      } while (marker);
      assert.deepEqual(v1seen, seen);
      const sa = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'p/', StartAfter: 'p/b/1' }));
      assert.deepEqual(
        sa.Contents?.map((c) => c.Key),
        ['p/b/2', 'p/c', 'p/d/x'],
      );
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'p/b/' }));
      assert.deepEqual(
        versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]),
        [
          ['p/b/1', 'null', true],
          ['p/b/2', 'null', true],
        ],
      );
      const del = await s3.send(
        new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
      );
      assert.equal(del.Deleted?.length, keys.length);
      const quiet = await s3.send(
        new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'gone' }], Quiet: true } }),
      );
      assert.equal(quiet.Deleted, undefined);
    });

    test('copy: COPY keeps metadata, REPLACE replaces it, onto itself needs REPLACE', async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: 'src key+1',
          Body: 'copy me',
          ContentType: 'text/plain',
          Metadata: { a: '1' },
        }),
      );
      const c1 = await s3.send(
        new CopyObjectCommand({
          Bucket: B,
          Key: 'dst1',
          CopySource: `${B}/${encodeURIComponent('src key+1')}`,
        }),
      );
      assert.equal(c1.CopyObjectResult?.ETag, `"${md5hex('copy me')}"`);
      const h1 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'dst1' }));
      assert.deepEqual([h1.ContentType, h1.Metadata], ['text/plain', { a: '1' }]);
      await s3.send(
        new CopyObjectCommand({
          Bucket: B,
          Key: 'dst2',
          CopySource: `${B}/src%20key%2B1`,
          MetadataDirective: 'REPLACE',
          ContentType: 'image/png',
          Metadata: { b: '2' },
        }),
      );
      const h2 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'dst2' }));
      assert.deepEqual([h2.ContentType, h2.Metadata], ['image/png', { b: '2' }]);
      await assert.rejects(
        s3.send(new CopyObjectCommand({ Bucket: B, Key: 'dst1', CopySource: `${B}/dst1` })),
        { name: 'InvalidRequest' },
      );
      await s3.send(
        new CopyObjectCommand({
          Bucket: B,
          Key: 'dst1',
          CopySource: `${B}/dst1`,
          MetadataDirective: 'REPLACE',
          Metadata: { c: '3' },
        }),
      );
      await assert.rejects(
        s3.send(
          new CopyObjectCommand({
            Bucket: B,
            Key: 'dst3',
            CopySource: `${B}/dst1`,
            CopySourceIfMatch: '"other"',
          }),
        ),
        { name: 'PreconditionFailed' },
      );
      // Deleting the source leaves the copies intact (they share bytes, not names).
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'src key+1' }));
      const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'dst2' }));
      assert.equal(await g.Body!.transformToString(), 'copy me');
      for (const Key of ['dst1', 'dst2']) await s3.send(new DeleteObjectCommand({ Bucket: B, Key }));
    });

    test('multipart: create, upload 2 parts, list, complete → md5-of-md5s ETag; abort', async () => {
      const p1 = randomBytes(5 * MiB);
      const p2 = randomBytes(1234);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp/obj' }));
      assert.ok(UploadId);
      const e1 = (
        await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp/obj', UploadId, PartNumber: 1, Body: p1 }))
      ).ETag!;
      const e2 = (
        await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp/obj', UploadId, PartNumber: 2, Body: p2 }))
      ).ETag!;
      const parts = await s3.send(new ListPartsCommand({ Bucket: B, Key: 'mp/obj', UploadId }));
      assert.deepEqual(
        parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
        [
          [1, p1.length, e1],
          [2, p2.length, e2],
        ],
      );
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
      assert.deepEqual(
        uploads.Uploads?.map((u) => u.UploadId),
        [UploadId],
      );
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: B,
          Key: 'mp/obj',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: e1 },
              { PartNumber: 2, ETag: e2 },
            ],
          },
        }),
      );
      const expected = md5hex(
        Buffer.concat([Buffer.from(md5hex(p1), 'hex'), Buffer.from(md5hex(p2), 'hex')]),
      );
      assert.equal(done.ETag, `"${expected}-2"`);
      const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp/obj' }));
      assert.ok(Buffer.from(await g.Body!.transformToByteArray()).equals(Buffer.concat([p1, p2])));
      assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: B }))).Uploads, undefined);
      await assert.rejects(s3.send(new ListPartsCommand({ Bucket: B, Key: 'mp/obj', UploadId })), {
        name: 'NoSuchUpload',
      });

      const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp/aborted' }));
      await s3.send(
        new UploadPartCommand({
          Bucket: B,
          Key: 'mp/aborted',
          UploadId: second.UploadId,
          PartNumber: 1,
          Body: 'x',
        }),
      );
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: B, Key: 'mp/aborted', UploadId: second.UploadId }),
      );
      await assert.rejects(
        s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: 'mp/aborted', UploadId: second.UploadId })),
        { name: 'NoSuchUpload' },
      );
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'mp/obj' }));
    });

    test('multipart refusals: InvalidPart, InvalidPartOrder, EntityTooSmall', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp/bad' }));
      const e1 = (
        await s3.send(
          new UploadPartCommand({ Bucket: B, Key: 'mp/bad', UploadId, PartNumber: 1, Body: 'small' }),
        )
      ).ETag!;
      const e2 = (
        await s3.send(
          new UploadPartCommand({ Bucket: B, Key: 'mp/bad', UploadId, PartNumber: 2, Body: 'tail' }),
        )
      ).ETag!;
      const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: B,
            Key: 'mp/bad',
            UploadId,
            MultipartUpload: { Parts },
          }),
        );
      await assert.rejects(complete([{ PartNumber: 1, ETag: '"0000"' }]), { name: 'InvalidPart' });
      await assert.rejects(complete([{ PartNumber: 3, ETag: e1 }]), { name: 'InvalidPart' });
      await assert.rejects(
        complete([
          { PartNumber: 2, ETag: e2 },
          { PartNumber: 1, ETag: e1 },
        ]),
        { name: 'InvalidPartOrder' },
      );
      await assert.rejects(
        complete([
          { PartNumber: 1, ETag: e1 },
          { PartNumber: 2, ETag: e2 },
        ]),
        { name: 'EntityTooSmall' },
      );
      // A single small part is fine: only non-last parts have a minimum.
      const one = await complete([{ PartNumber: 2, ETag: e2 }]);
      assert.match(one.ETag!, /-1"$/);
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'mp/bad' }));
    });

    test('UploadPartCopy: a range of an existing object becomes a part', async () => {
      const src = randomBytes(6 * MiB);
      await s3.send(new PutObjectCommand({ Bucket: B, Key: 'upc/src', Body: src }));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'upc/dst' }));
      const c1 = await s3.send(
        new UploadPartCopyCommand({
          Bucket: B,
          Key: 'upc/dst',
          UploadId,
          PartNumber: 1,
          CopySource: `${B}/upc/src`,
          CopySourceRange: `bytes=0-${5 * MiB}`,
        }),
      );
      const c2 = await s3.send(
        new UploadPartCopyCommand({
          Bucket: B,
          Key: 'upc/dst',
          UploadId,
          PartNumber: 2,
          CopySource: `${B}/upc/src`,
          CopySourceRange: 'bytes=10-19',
        }),
      );
      assert.equal(c1.CopyPartResult?.ETag, `"${md5hex(src.subarray(0, 5 * MiB + 1))}"`);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: B,
          Key: 'upc/dst',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: c1.CopyPartResult!.ETag },
              { PartNumber: 2, ETag: c2.CopyPartResult!.ETag },
            ],
          },
        }),
      );
      const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'upc/dst' }));
      const got = Buffer.from(await g.Body!.transformToByteArray());
      assert.ok(got.equals(Buffer.concat([src.subarray(0, 5 * MiB + 1), src.subarray(10, 20)])));
      await assert.rejects(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: B,
            Key: 'upc/dst2',
            UploadId: 'f'.repeat(32),
            PartNumber: 1,
            CopySource: `${B}/upc/src`,
          }),
        ),
        { name: 'NoSuchUpload' },
      );
      for (const Key of ['upc/src', 'upc/dst']) await s3.send(new DeleteObjectCommand({ Bucket: B, Key }));
    });

    test('delete bucket: BucketNotEmpty, then gone', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: `${B}-x` }));
      await s3.send(new PutObjectCommand({ Bucket: `${B}-x`, Key: 'k', Body: 'v' }));
      await assert.rejects(s3.send(new DeleteBucketCommand({ Bucket: `${B}-x` })), {
        name: 'BucketNotEmpty',
      });
      await s3.send(new DeleteObjectCommand({ Bucket: `${B}-x`, Key: 'k' }));
      await s3.send(new DeleteBucketCommand({ Bucket: `${B}-x` }));
      await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: `${B}-x` })), { name: 'NotFound' });
    });
  });
}
