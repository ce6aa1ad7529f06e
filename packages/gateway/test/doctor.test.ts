// chute doctor's storage checks against a real S3 endpoint: the embedded store in-process by
// default, Ceph RGW with CHUTE_S3_TARGET=rgw (scripts/test-rgw.sh). Every refusal the checks
// report is the store's own answer; nothing is mocked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../../../test/conformance/helpers.ts';
import { openTarget, type Target } from '../../../test/conformance/target.ts';
import { doctorFailed, formatResults, runDoctor } from '../src/doctor/run.ts';
import type { CheckResult } from '../src/doctor/types.ts';
import { prepareBucket } from '../src/storage/admin.ts';
import type { StorageConfig } from '../src/storage/s3.ts';
import { closedPort, dateShiftingProxy, doctorInput, storageConfig } from './helpers/doctor.ts';

const ORIGIN = 'http://127.0.0.1:3000';
let target: Target;
let s3: S3Client;
let storage: StorageConfig;

before(async () => {
  target = await openTarget();
  s3 = s3Client(target);
  storage = storageConfig(target, `${target.bucketPrefix}-doctor`);
  await prepareBucket(storage, { corsOrigins: [ORIGIN, 'http://localhost:3000'] });
});
after(async () => {
  try {
    // Deleting fails if a probe left an object behind (the first test asserts none did).
    if (s3) await s3.send(new DeleteBucketCommand({ Bucket: storage.bucket }));
  } finally {
    s3?.destroy();
    await target?.close();
  }
});

const byName = (results: CheckResult[]) => new Map(results.map((r) => [r.name, r]));
const storageOnly = (results: CheckResult[]) =>
  results.filter((r) => r.name !== 'database' && r.name !== 'webhooks');

describe(`chute doctor against ${process.env['CHUTE_S3_TARGET'] ?? 'embedded'}`, () => {
  test('a prepared bucket passes every storage check, and the probes leave nothing behind', async () => {
    const results = await runDoctor(doctorInput(storage));
    const out = formatResults(results);
    for (const r of storageOnly(results)) assert.equal(r.status, 'pass', out);
    const checks = byName(results);
    assert.match(checks.get('enforce-post-size')!.detail, /refused a 17-byte file .* \(400 EntityTooLarge/);
    assert.match(checks.get('enforce-put-length')!.detail, /refused 17 bytes .* \(403 SignatureDoesNotMatch/);
    assert.match(
      checks.get('enforce-unsigned-field')!.detail,
      /refused .*x-amz-meta-doctor.* \(403 AccessDenied/,
    );
    assert.match(checks.get('clock-skew')!.detail, /within 1 s of this machine's/);
    assert.match(
      checks.get('enforce-signature')!.detail,
      /refused a request signed with a wrong secret \(403\)/,
    );
    assert.equal(doctorFailed(results), false);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: 'doctor/' }));
    assert.deepEqual(left.Contents ?? [], []);
  });

  test('a key that may not delete: the probes warn and name what they left under doctor/', async () => {
    // The stores here have no per-key permissions, so the refusal a restricted IAM policy gives
    // (403 AccessDenied to DeleteObject) is answered in front of the real store; every other
    // request reaches it.
    const noDelete: typeof fetch = (input, init) =>
      init?.method === 'DELETE'
        ? Promise.resolve(
            new Response('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', {
              status: 403,
            }),
          )
        : fetch(input, init);
    const checks = byName(await runDoctor(doctorInput(storage), { fetch: noDelete }));
    try {
      for (const name of ['enforce-post-size', 'enforce-put-length', 'enforce-unsigned-field']) {
        const r = checks.get(name)!;
        assert.equal(r.status, 'warn', `${name}: ${r.detail}`);
        assert.match(
          r.detail,
          /^refused .*; could not delete doctor\/\w+ \(DeleteObject: AccessDenied \(403\)/,
        );
        assert.match(r.fix!, /delete what is left under doctor\/ \(the key needs s3:DeleteObject\)/);
      }
    } finally {
      const left = await s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: 'doctor/' }));
      assert.equal(left.Contents?.length, 3, 'one accepted control object per probe');
      for (const o of left.Contents ?? [])
        await s3.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: o.Key }));
    }
  });

  test('credentials: a wrong secret, an unknown key, a missing bucket, no store at all', async () => {
    const cases: Array<[string, StorageConfig, RegExp]> = [
      [
        'wrong secret',
        { ...storage, secretAccessKey: `${storage.secretAccessKey}x` },
        /403 \(SignatureDoesNotMatch/,
      ],
      ['unknown key', { ...storage, accessKeyId: 'NOSUCHKEY0000000000' }, /403 \(InvalidAccessKeyId/],
      ['no bucket', { ...storage, bucket: `${target.bucketPrefix}-missing` }, /404 \(NoSuchBucket/],
      [
        'no store',
        { ...storage, endpoint: `http://127.0.0.1:${await closedPort()}` },
        /does not answer.*ECONNREFUSED/,
      ],
    ];
    for (const [label, config, detail] of cases) {
      const results = await runDoctor(doctorInput(config));
      const checks = byName(results);
      assert.equal(checks.get('credentials')!.status, 'fail', label);
      assert.match(checks.get('credentials')!.detail, detail, label);
      assert.ok(checks.get('credentials')!.fix, label);
      // The bucket checks would only repeat the same failure.
      for (const name of [
        'bucket-cors',
        'enforce-signature',
        'enforce-post-size',
        'enforce-put-length',
        'enforce-unsigned-field',
      ])
        assert.equal(checks.get(name)!.status, 'skip', `${label}: ${name}`);
      assert.equal(doctorFailed(results), true);
    }
  });

  test('bucket CORS: none at all, another origin only, ETag not exposed, PUT not allowed', async () => {
    const bare = `${target.bucketPrefix}-doctor-cors`;
    await s3.send(new CreateBucketCommand({ Bucket: bare }));
    const config = { ...storage, bucket: bare };
    const cors = async () => byName(await runDoctor(doctorInput(config)))!.get('bucket-cors')!;
    try {
      const none = await cors();
      assert.equal(none.status, 'fail');
      assert.match(none.detail, /has no CORS configuration/);
      assert.match(none.fix!, /<AllowedOrigin>http:\/\/127\.0\.0\.1:3000<\/AllowedOrigin>/);

      const rule = (over: Record<string, unknown>) =>
        s3.send(
          new PutBucketCorsCommand({
            Bucket: bare,
            CORSConfiguration: {
              CORSRules: [
                {
                  AllowedOrigins: [ORIGIN],
                  AllowedMethods: ['PUT', 'POST'],
                  AllowedHeaders: ['*'],
                  ExposeHeaders: ['ETag'],
                  ...over,
                },
              ],
            },
          }),
        );
      await rule({ AllowedOrigins: ['https://app.example.com'] });
      const other = await cors();
      assert.equal(other.status, 'fail');
      assert.match(other.detail, /http:\/\/127\.0\.0\.1:3000: no rule allows PUT.*no rule allows POST/);

      await rule({ ExposeHeaders: [] });
      assert.match((await cors()).detail, /does not expose ETag/);

      await rule({ AllowedMethods: ['POST'] });
      const noPut = await cors();
      assert.match(noPut.detail, /no rule allows PUT/);
      assert.doesNotMatch(noPut.detail, /POST/);

      await rule({ AllowedHeaders: ['content-type'] });
      assert.match((await cors()).detail, /no rule allows PUT with content-type, x-amz-meta-upload-id/);

      await rule({ AllowedOrigins: ['http://127.0.0.1:*'] });
      assert.equal((await cors()).status, 'pass');
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: bare }));
    }
  });

  test('clock skew: storage whose Date is 5 min off warns, 20 min off fails (a Date-rewriting proxy)', async () => {
    for (const [offset, status, said] of [
      [5 * 60_000, 'warn', /5 min ahead of this machine's.*over 60 s/],
      [-20 * 60_000, 'fail', /20 min behind this machine's.*over 15 min/],
      [30_000, 'pass', /(29|30|31) s ahead of/],
    ] as const) {
      const proxy = await dateShiftingProxy(storage.endpoint, offset);
      try {
        const checks = byName(await runDoctor(doctorInput({ ...storage, endpoint: proxy.url })));
        const clock = checks.get('clock-skew')!;
        assert.equal(clock.status, status, clock.detail);
        assert.match(clock.detail, said);
        // Only the header is off: the store itself still accepts the signatures.
        assert.equal(checks.get('credentials')!.status, 'pass');
      } finally {
        await proxy.close();
      }
    }
  });

  test('clock skew: this machine 20 min slow: storage refuses the signature (RequestTimeTooSkewed)', async () => {
    const slow = () => Date.now() - 20 * 60_000;
    const checks = byName(await runDoctor(doctorInput(storage), { now: slow }));
    assert.equal(checks.get('credentials')!.status, 'fail');
    assert.match(checks.get('credentials')!.detail, /403 \(RequestTimeTooSkewed/);
    assert.match(checks.get('credentials')!.fix!, /NTP/);
    assert.equal(checks.get('clock-skew')!.status, 'fail');
    assert.match(checks.get('clock-skew')!.detail, /20 min ahead of this machine's/);
  });
});
