// CreateBucket of a bucket the caller already owns, in both kinds of region (the conformance
// suite's targets all run in us-east-1).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { client, type Running, startStore } from './helpers.ts';

describe('CreateBucket of an owned bucket', () => {
  let east: Running;
  let west: Running;
  before(async () => {
    east = await startStore();
    west = await startStore({ region: 'eu-west-1' });
  });
  after(async () => {
    await east.stop();
    await west.stop();
  });

  test('outside us-east-1: 409 BucketAlreadyOwnedByYou, objects kept', async () => {
    const s3 = client(west.url, { region: 'eu-west-1' });
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'owned',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'owned', Key: 'k', Body: 'v' }));
    await assert.rejects(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'owned',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
      (e: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
        e.name === 'BucketAlreadyOwnedByYou' && e.$metadata?.httpStatusCode === 409,
    );
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'owned' }));
    assert.deepEqual(
      list.Contents?.map((o) => o.Key),
      ['k'],
    );
  });

  test('in us-east-1: 200, the ACL reset to the one asked for, objects kept', async () => {
    const s3 = client(east.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'owned', ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: 'owned', Key: 'k', Body: 'v' }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: 'owned' }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'owned' }));
    assert.deepEqual(
      acl.Grants?.map((g) => g.Permission),
      ['FULL_CONTROL'],
      'private again: only the owner grant',
    );
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'owned' }));
    assert.deepEqual(
      list.Contents?.map((o) => o.Key),
      ['k'],
    );
  });
});
