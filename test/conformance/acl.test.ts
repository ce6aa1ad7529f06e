// Canned ACLs as anonymous callers meet them. Objects: x-amz-acl on PUT / CopyObject and the
// `acl` POST field; buckets: x-amz-acl on PutBucketAcl. This is S3 with ACLs enabled (Object
// Ownership "ObjectWriter", as RGW and chute s3 always are); a bucket AWS creates today defaults
// to "BucketOwnerEnforced", which refuses any ACL but the owner's (see docs/compat.md).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  PutBucketAclCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { expectError } from './deviations.ts';
import { errorOf, objectUrl, postForm, signPostForm, useBucket } from './helpers.ts';

const s = useBucket('acl');

const anonymous = (key: string, method = 'GET') => fetch(objectUrl(s, key), { method });

describe('object canned ACLs in a private bucket', () => {
  it('PUT with x-amz-acl: public-read — anyone may GET and HEAD that object', async () => {
    await s.s3.send(
      new PutObjectCommand({ Bucket: s.bucket, Key: 'pub.txt', Body: 'public', ACL: 'public-read' }),
    );
    const get = await anonymous('pub.txt');
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'public');
    assert.equal((await anonymous('pub.txt', 'HEAD')).status, 200);
  });

  it('PUT without an ACL is private: an anonymous GET is 403 AccessDenied', async () => {
    await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'priv.txt', Body: 'private' }));
    expectError(s.target, await errorOf(await anonymous('priv.txt')), 403, 'AccessDenied');
  });

  it('an unknown canned ACL: 400 InvalidArgument', async () => {
    await assert.rejects(
      s.s3.send(
        new PutObjectCommand({
          Bucket: s.bucket,
          Key: 'bad-acl.txt',
          Body: 'x',
          ACL: 'world-writable' as never,
        }),
      ),
      (e: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
        e.$metadata?.httpStatusCode === 400 && e.name === 'InvalidArgument',
    );
  });

  it('the `acl` field of a POST form: public-read makes the object readable by anyone', async () => {
    const file = { filename: 'a.txt', contentType: 'text/plain', body: 'posted in public' };
    const fields = signPostForm(s, {
      fields: [
        ['key', 'post-pub.txt'],
        ['acl', 'public-read'],
      ],
      conditions: [{ key: 'post-pub.txt' }, { acl: 'public-read' }],
      file,
    });
    const res = await postForm(s, fields, file);
    assert.equal(res.status, 204, await res.text());
    const get = await anonymous('post-pub.txt');
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'posted in public');
  });

  it('CreateMultipartUpload with x-amz-acl: public-read — the completed object is public', async () => {
    const { UploadId } = await s.s3.send(
      new CreateMultipartUploadCommand({ Bucket: s.bucket, Key: 'mp-pub.txt', ACL: 'public-read' }),
    );
    const part = await s.s3.send(
      new UploadPartCommand({
        Bucket: s.bucket,
        Key: 'mp-pub.txt',
        UploadId,
        PartNumber: 1,
        Body: 'one part',
      }),
    );
    await s.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: s.bucket,
        Key: 'mp-pub.txt',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const get = await anonymous('mp-pub.txt');
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'one part');
  });

  it("CopyObject does not carry the source's ACL: the copy is private unless x-amz-acl says so", async () => {
    await s.s3.send(
      new CopyObjectCommand({ Bucket: s.bucket, Key: 'copy-priv.txt', CopySource: `${s.bucket}/pub.txt` }),
    );
    expectError(s.target, await errorOf(await anonymous('copy-priv.txt')), 403, 'AccessDenied');
    await s.s3.send(
      new CopyObjectCommand({
        Bucket: s.bucket,
        Key: 'copy-pub.txt',
        CopySource: `${s.bucket}/priv.txt`,
        ACL: 'public-read',
      }),
    );
    assert.equal((await anonymous('copy-pub.txt')).status, 200);
  });
});

describe('bucket canned ACLs', () => {
  it('public-read lets anyone list the bucket, not read its private objects nor write', async () => {
    await s.s3.send(new PutBucketAclCommand({ Bucket: s.bucket, ACL: 'public-read' }));
    try {
      const list = await fetch(`${s.target.endpoint}/${s.bucket}?list-type=2`);
      assert.equal(list.status, 200);
      assert.match(await list.text(), /<Key>pub\.txt<\/Key>/);
      const put = await fetch(objectUrl(s, 'anon.txt'), { method: 'PUT', body: 'x' });
      expectError(s.target, await errorOf(put), 403, 'AccessDenied');
      // The bucket's READ grant lists keys; reading an object takes the object's own grant.
      const get = await anonymous('priv.txt');
      expectError(s.target, await errorOf(get), 403, 'AccessDenied');
    } finally {
      await s.s3.send(new PutBucketAclCommand({ Bucket: s.bucket, ACL: 'private' }));
    }
  });

  it('public-read-write lets anyone write an object', async () => {
    await s.s3.send(new PutBucketAclCommand({ Bucket: s.bucket, ACL: 'public-read-write' }));
    try {
      const put = await fetch(objectUrl(s, 'anon.txt'), { method: 'PUT', body: 'anonymous' });
      assert.equal(put.status, 200, await put.text());
    } finally {
      await s.s3.send(new PutBucketAclCommand({ Bucket: s.bucket, ACL: 'private' }));
    }
  });
});
