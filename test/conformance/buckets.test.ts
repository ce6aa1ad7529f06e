// Bucket-level operations an operator's tooling leans on: creating a bucket that already exists
// (idempotent set-up scripts), and ListBuckets paging (max-buckets, continuation-token, prefix).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { deviates, expectError } from './deviations.ts';
import { sdkErrorOf, useBucket } from './helpers.ts';

const s = useBucket('buckets');

describe('CreateBucket of a bucket you own', () => {
  before(async () => {
    await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'kept.txt', Body: 'still here' }));
  });

  // "Amazon S3 returns this error in all AWS Regions except in the North Virginia Region. For
  // legacy compatibility, if you re-create an existing bucket that you already own in the North
  // Virginia Region, Amazon S3 returns 200 OK and resets the bucket access control lists (ACLs)."
  it('us-east-1: 200 OK; elsewhere 409 BucketAlreadyOwnedByYou; the bucket is never emptied', async () => {
    const again = s.s3.send(new CreateBucketCommand({ Bucket: s.bucket }));
    if (s.target.region === 'us-east-1') {
      const res = await again;
      assert.equal(res.$metadata.httpStatusCode, 200);
    } else {
      expectError(s.target, await sdkErrorOf(again), 409, 'BucketAlreadyOwnedByYou');
    }
    const list = await s.s3.send(new ListObjectsV2Command({ Bucket: s.bucket }));
    assert.deepEqual(
      (list.Contents ?? []).map((o) => o.Key),
      ['kept.txt'],
    );
  });
});

describe('ListBuckets paging', () => {
  let prefix = '';
  let names: string[] = [];
  before(async () => {
    prefix = `${s.bucket.slice(0, 50)}-p`;
    names = ['a', 'b', 'c'].map((x) => `${prefix}${x}`);
    for (const name of names) await s.s3.send(new CreateBucketCommand({ Bucket: name }));
  });
  after(async () => {
    for (const name of names) await s.s3.send(new DeleteBucketCommand({ Bucket: name })).catch(() => {});
  });

  it('Prefix lists only the buckets that start with it', async () => {
    const res = await s.s3.send(new ListBucketsCommand({ Prefix: prefix }));
    if (deviates(s.target, 'list-buckets-no-paging')) {
      const all = (res.Buckets ?? []).map((b) => b.Name);
      assert.ok(
        names.every((n) => all.includes(n)) && all.includes(s.bucket),
        'every bucket, prefix ignored',
      );
      assert.equal(res.Prefix, undefined);
      return;
    }
    assert.deepEqual(
      (res.Buckets ?? []).map((b) => b.Name),
      names,
    );
    assert.equal(res.Prefix, prefix);
  });

  it('MaxBuckets pages with a ContinuationToken until none is returned', async () => {
    if (deviates(s.target, 'list-buckets-no-paging')) {
      const res = await s.s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2 }));
      assert.ok((res.Buckets ?? []).length > 2, 'max-buckets ignored');
      assert.equal(res.ContinuationToken, undefined);
      return;
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await s.s3.send(
        new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2, ContinuationToken: token }),
      );
      pages++;
      assert.ok((res.Buckets ?? []).length <= 2, `page ${pages} has ${res.Buckets?.length} buckets`);
      seen.push(...(res.Buckets ?? []).map((b) => b.Name!));
      token = res.ContinuationToken;
      assert.ok(pages <= 3, 'paging did not end');
    } while (token);
    assert.deepEqual(seen, names);
    assert.equal(pages, 2);
  });

  it('max-buckets outside 1..10000: 400 InvalidArgument', async () => {
    if (deviates(s.target, 'list-buckets-no-paging')) {
      const res = await s.s3.send(new ListBucketsCommand({ MaxBuckets: 0 }));
      assert.equal(res.$metadata.httpStatusCode, 200);
      return;
    }
    const err = await sdkErrorOf(s.s3.send(new ListBucketsCommand({ MaxBuckets: 0 })));
    expectError(s.target, err, 400, 'InvalidArgument');
  });
});
