import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { PostCondition } from '../src/post-condition.ts';
import { signPostPolicy, verifyPostSignature } from '../src/post-policy.ts';
import type { VerifyOptions } from '../src/types.ts';
import { credentials, FIXED_NOW, pick, prng, REGIONS, s3ErrorOf } from './helpers.ts';

async function atTime<T>(now: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => now;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}

describe('signPostPolicy', () => {
  it('equals createPresignedPost (url, fields, policy, signature) on 150 generated forms', async () => {
    const rand = prng(99);
    for (let i = 0; i < 150; i++) {
      const creds = credentials(rand);
      const region = pick(rand, REGIONS);
      const pathStyle = rand() < 0.6;
      const endpoint = pick(rand, ['http://127.0.0.1:9000', 'https://s3.example.com']);
      const client = new S3Client({
        region,
        credentials: creds,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        ...(pathStyle ? { endpoint, forcePathStyle: true } : {}),
      });
      const bucket = pick(rand, ['bucket', 'chute-uploads']);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} placeholder
      const key = pick(rand, ['incoming/u1/abc', 'incoming/u 2/${filename}', 'ü/ключ', 'a+b=c']);
      const conditions: PostCondition[] = [];
      const fields: Record<string, string> = {};
      if (rand() < 0.8)
        conditions.push(['content-length-range', Math.floor(rand() * 10), Math.floor(rand() * 1e9)]);
      if (rand() < 0.5) conditions.push(['starts-with', '$Content-Type', 'image/']);
      if (rand() < 0.5) {
        fields['Content-Type'] = 'image/png';
        if (rand() < 0.5) conditions.push({ 'Content-Type': 'image/png' }); // duplicate of the field's own condition
      }
      if (rand() < 0.5) fields['x-amz-meta-upload-id'] = `up-${i}`;
      if (rand() < 0.3) fields['success_action_status'] = '201';
      if (rand() < 0.2) conditions.push(['eq', '$x-amz-meta-user-id', 'user "7" ü']);
      const expiresIn = 1 + Math.floor(rand() * 604800);
      const now = FIXED_NOW + Math.floor(rand() * 1e10);
      const sdk = await atTime(now, () =>
        createPresignedPost(client, {
          Bucket: bucket,
          Key: key,
          Conditions: conditions as never,
          Fields: fields,
          Expires: expiresIn,
        }),
      );
      const ours = signPostPolicy({
        endpoint: pathStyle ? endpoint : `https://${bucket}.s3.${region}.amazonaws.com`,
        virtualHost: !pathStyle,
        bucket,
        key,
        conditions,
        fields,
        credentials: creds,
        region,
        expiresIn,
        now,
      });
      assert.deepEqual(ours, sdk, `case ${i}`);
      // Same key order too: forms are posted in field order.
      assert.deepEqual(Object.keys(ours.fields), Object.keys(sdk.fields));
    }
  });

  it('refuses expiresIn=0 and 604801 with RangeError', () => {
    for (const expiresIn of [0, 604801]) {
      assert.throws(
        () =>
          signPostPolicy({
            endpoint: 'http://h',
            bucket: 'b',
            key: 'k',
            credentials: { accessKeyId: 'a', secretAccessKey: 's' },
            region: 'us-east-1',
            expiresIn,
          }),
        RangeError,
      );
    }
  });
});

describe('verifyPostSignature', () => {
  const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
  const opts: VerifyOptions = {
    lookupSecret: (id) => (id === 'AKID' ? 'secret' : undefined),
    now: FIXED_NOW,
    region: 'us-east-1',
  };
  const form = () =>
    signPostPolicy({
      endpoint: 'http://h',
      bucket: 'b',
      key: 'incoming/u1/x',
      conditions: [['content-length-range', 1, 100]],
      fields: { 'Content-Type': 'image/png' },
      credentials: creds,
      region: 'us-east-1',
      now: FIXED_NOW,
    }).fields;

  it('accepts a signed form and returns the policy JSON (not parsed)', () => {
    const r = verifyPostSignature(form(), opts);
    assert.ok('accessKeyId' in r);
    assert.equal(r.accessKeyId, 'AKID');
    assert.deepEqual(JSON.parse(r.policyJson).conditions[0], ['content-length-range', 1, 100]);
  });

  it('matches field names case-insensitively (policy, x-amz-signature, X-AMZ-CREDENTIAL)', () => {
    const f = Object.fromEntries(
      Object.entries(form()).map(([k, v]) => [k === 'Policy' ? 'policy' : k.toUpperCase(), v]),
    );
    assert.ok('accessKeyId' in verifyPostSignature(f, opts));
  });

  it('refuses a policy with one base64 character changed, before parsing it: SignatureDoesNotMatch', () => {
    const f = form();
    const p = f['Policy']!;
    f['Policy'] = `${p.slice(0, 10)}${p[10] === 'A' ? 'B' : 'A'}${p.slice(11)}`;
    const e = s3ErrorOf(() => verifyPostSignature(f, opts));
    assert.equal(e.code, 'SignatureDoesNotMatch');
    assert.equal(e.details['StringToSign'], f['Policy']);
  });

  it('refuses a policy that is not even JSON when unsigned ("{{{"): SignatureDoesNotMatch, no parse error', () => {
    const f = { ...form(), Policy: Buffer.from('{{{').toString('base64') };
    assert.equal(s3ErrorOf(() => verifyPostSignature(f, opts)).code, 'SignatureDoesNotMatch');
  });

  it('refuses a changed X-Amz-Signature, an unknown key and a wrong region', () => {
    const f = form();
    const sig = f['X-Amz-Signature']!;
    assert.equal(
      s3ErrorOf(() =>
        verifyPostSignature(
          { ...f, 'X-Amz-Signature': sig.replace(/.$/, sig.endsWith('0') ? '1' : '0') },
          opts,
        ),
      ).code,
      'SignatureDoesNotMatch',
    );
    assert.equal(
      s3ErrorOf(() => verifyPostSignature(f, { ...opts, lookupSecret: () => undefined })).code,
      'InvalidAccessKeyId',
    );
    assert.equal(
      s3ErrorOf(() => verifyPostSignature(f, { ...opts, region: 'eu-west-1' })).code,
      'AuthorizationQueryParametersError',
    );
  });

  for (const missing of ['Policy', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Date']) {
    it(`refuses a SigV4 form without ${missing}: InvalidArgument`, () => {
      const { [missing]: _, ...f } = form();
      const e = s3ErrorOf(() => verifyPostSignature(f, opts));
      assert.equal(e.code, 'InvalidArgument');
      assert.match(e.message, new RegExp(`must contain a field named '${missing}'`));
    });
  }

  it('refuses Policy and policy both present: InvalidArgument', () => {
    const f = form();
    assert.equal(
      s3ErrorOf(() => verifyPostSignature({ ...f, policy: f['Policy']! }, opts)).code,
      'InvalidArgument',
    );
  });

  it('refuses a signature without any policy: InvalidArgument', () => {
    assert.equal(
      s3ErrorOf(() => verifyPostSignature({ key: 'k', 'x-amz-signature': 'ab' }, opts)).code,
      'InvalidArgument',
    );
  });

  it('treats a form with no policy and no credentials as anonymous', () => {
    assert.deepEqual(verifyPostSignature({ key: 'k', 'Content-Type': 'text/plain' }, opts), {
      anonymous: true,
    });
  });

  it('verifies SigV2 forms (AWSAccessKeyId/Signature = base64 HMAC-SHA1 of the policy) and refuses a changed one', () => {
    const policy = Buffer.from(
      '{"expiration":"2026-01-02T04:04:05Z","conditions":[{"bucket":"b"}]}',
    ).toString('base64');
    const signature = createHmac('sha1', 'secret').update(policy).digest('base64');
    const r = verifyPostSignature({ AWSAccessKeyId: 'AKID', policy, signature }, opts);
    assert.ok('accessKeyId' in r);
    const bad = signature.replace(/^./, signature.startsWith('A') ? 'B' : 'A');
    assert.equal(
      s3ErrorOf(() => verifyPostSignature({ AWSAccessKeyId: 'AKID', policy, signature: bad }, opts)).code,
      'SignatureDoesNotMatch',
    );
    assert.equal(
      s3ErrorOf(() => verifyPostSignature({ AWSAccessKeyId: 'AKID', policy }, opts)).code,
      'InvalidArgument',
    );
  });
});
