// Browser POST uploads with a signed policy: every rule the gateway compiles into conditions must be
// enforced by the storage, with S3's status and code. Forms are encoded as a browser does, `file` last.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { expectError, expectEtag } from './deviations.ts';
import {
  errorOf,
  md5hex,
  type PolicyCondition,
  type PostFormOptions,
  postForm,
  signPostForm,
  tamper,
  useBucket,
  withField,
  xmlText,
} from './helpers.ts';

const s = useBucket('post');

const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(248, 7)]); // 256 bytes
const file = { filename: 'photo.png', contentType: 'image/png', body: png };

/** The form the gateway would hand out for an image upload, with one change per test. */
function form(
  key: string,
  change: {
    fields?: Array<[string, string]>;
    conditions?: PolicyCondition[];
    range?: [number, number];
    expiresIn?: number;
  } = {},
): Array<[string, string]> {
  const [min, max] = change.range ?? [1, 1024];
  const opts: PostFormOptions = {
    fields: [
      ['key', key],
      ['Content-Type', 'image/png'],
      ['x-amz-meta-user-id', 'u_42'],
      ['success_action_status', '201'],
      ...(change.fields ?? []),
    ],
    conditions: [
      ['starts-with', '$key', 'incoming/u_42/'],
      ['starts-with', '$Content-Type', 'image/'],
      { 'x-amz-meta-user-id': 'u_42' },
      { success_action_status: '201' },
      ['content-length-range', min, max],
      ...(change.conditions ?? []),
    ],
    file,
    ...(change.expiresIn !== undefined ? { expiresIn: change.expiresIn } : {}),
  };
  return signPostForm(s, opts);
}

describe('POST policy', () => {
  it('accepts a form within every condition: 201 PostResponse with Location, Bucket, Key, ETag', async () => {
    const key = 'incoming/u_42/ok.png';
    const res = await postForm(s, form(key), file);
    const xml = await res.text();
    assert.equal(res.status, 201, xml);
    assert.match(xml, /<PostResponse>/);
    assert.equal(xmlText(xml, 'Bucket'), s.bucket);
    assert.equal(xmlText(xml, 'Key'), key);
    // AWS percent-encodes the key in Location, slashes included: …/incoming%2Fu_42%2Fok.png
    assert.ok(xmlText(xml, 'Location')?.endsWith(`/${encodeURIComponent(key)}`), xml);
    expectEtag(s.target, xmlText(xml, 'ETag'), md5hex(png), { deviation: 'post-201-etag-unquoted' });

    const head = await s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }));
    assert.equal(head.ContentType, 'image/png');
    assert.equal(head.ContentLength, png.length);
    assert.deepEqual(head.Metadata, { 'user-id': 'u_42' });
  });

  it('refuses a file above the range: 400 EntityTooLarge', async () => {
    const res = await postForm(s, form('incoming/u_42/large.png', { range: [1, 100] }), file);
    expectError(s.target, await errorOf(res), 400, 'EntityTooLarge');
  });

  it('refuses a file below the range: 400 EntityTooSmall', async () => {
    const res = await postForm(s, form('incoming/u_42/small.png', { range: [1000, 2000] }), file);
    expectError(s.target, await errorOf(res), 400, 'EntityTooSmall');
  });

  it('refuses a Content-Type outside the prefix: 403 AccessDenied', async () => {
    const fields = withField(form('incoming/u_42/type.png'), 'Content-Type', 'text/html');
    // The policy is unchanged, so its signature still holds: only the condition can refuse it.
    const res = await postForm(s, fields, { ...file, contentType: 'text/html' });
    expectError(s.target, await errorOf(res), 403, 'AccessDenied');
  });

  it('refuses a key outside the prefix: 403 AccessDenied', async () => {
    const res = await postForm(s, form('incoming/u_666/escape.png'), file);
    expectError(s.target, await errorOf(res), 403, 'AccessDenied');
  });

  it('refuses metadata other than the policy requires: 403 AccessDenied', async () => {
    const fields = withField(form('incoming/u_42/meta.png'), 'x-amz-meta-user-id', 'u_666');
    expectError(s.target, await errorOf(await postForm(s, fields, file)), 403, 'AccessDenied');
  });

  it('refuses an expired policy: 403 AccessDenied', async () => {
    const res = await postForm(s, form('incoming/u_42/expired.png', { expiresIn: -60 }), file);
    expectError(s.target, await errorOf(res), 403, 'AccessDenied');
  });

  it('refuses a tampered policy: 403 SignatureDoesNotMatch', async () => {
    const fields = withField(form('incoming/u_42/policy.png'), 'policy', (p) => {
      const doc = JSON.parse(Buffer.from(p, 'base64').toString('utf8')) as { conditions: unknown[] };
      doc.conditions = doc.conditions.map((c) =>
        Array.isArray(c) && c[0] === 'content-length-range' ? ['content-length-range', 1, 1e9] : c,
      );
      return Buffer.from(JSON.stringify(doc)).toString('base64');
    });
    expectError(s.target, await errorOf(await postForm(s, fields, file)), 403, 'SignatureDoesNotMatch', {
      deviation: 'post-tampered-policy',
    });
  });

  it('refuses a tampered signature: 403 SignatureDoesNotMatch', async () => {
    const fields = withField(form('incoming/u_42/sig.png'), 'x-amz-signature', (v) => tamper(v));
    expectError(s.target, await errorOf(await postForm(s, fields, file)), 403, 'SignatureDoesNotMatch', {
      deviation: 'post-tampered-signature',
    });
  });

  it('refuses a field no condition covers: 403 AccessDenied', async () => {
    const fields = form('incoming/u_42/extra.png', { fields: [['x-amz-meta-role', 'admin']] });
    expectError(s.target, await errorOf(await postForm(s, fields, file)), 403, 'AccessDenied');
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} variable
  it('replaces ${filename} in the key with the file name', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} variable
    const fields = form('incoming/u_42/${filename}');
    const res = await postForm(s, fields, { ...file, filename: 'holiday.png' });
    const xml = await res.text();
    assert.equal(res.status, 201, xml);
    assert.equal(xmlText(xml, 'Key'), 'incoming/u_42/holiday.png');
    const got = await s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'incoming/u_42/holiday.png' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), png);
  });

  for (const status of ['200', '204'] as const) {
    it(`answers success_action_status ${status} with an empty body`, async () => {
      const fields = signPostForm(s, {
        fields: [
          ['key', `incoming/u_42/status-${status}.png`],
          ['success_action_status', status],
        ],
        conditions: [['starts-with', '$key', 'incoming/u_42/'], { success_action_status: status }],
        file,
      });
      const res = await postForm(s, fields, file);
      assert.equal(res.status, Number(status));
      assert.equal(await res.text(), '');
    });
  }

  it('answers 204 when no success_action_status is given', async () => {
    const fields = signPostForm(s, {
      fields: [['key', 'incoming/u_42/default.png']],
      conditions: [['starts-with', '$key', 'incoming/u_42/']],
      file,
    });
    const res = await postForm(s, fields, file);
    assert.equal(res.status, 204, await res.text());
  });

  it('redirects to success_action_redirect: 303 with bucket, key and etag', async () => {
    const redirect = 'https://app.example/uploaded';
    const key = 'incoming/u_42/redirect.png';
    const fields = signPostForm(s, {
      fields: [
        ['key', key],
        ['success_action_redirect', redirect],
      ],
      conditions: [['starts-with', '$key', 'incoming/u_42/'], { success_action_redirect: redirect }],
      file,
    });
    const res = await postForm(s, fields, file);
    assert.equal(res.status, 303, await res.text());
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, 'https://app.example/uploaded');
    assert.equal(location.searchParams.get('bucket'), s.bucket);
    assert.equal(location.searchParams.get('key'), key);
    assert.equal(location.searchParams.get('etag'), `"${md5hex(png)}"`);
  });
});
