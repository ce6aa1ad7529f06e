import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChuteError, type GatewayErrorCode } from '@chute/errors';
import {
  checkDeclared,
  defineRoutes,
  postConditions,
  postFields,
  publishedKey,
  publishRule,
  putSignedHeaders,
  type RouteRule,
  route,
  routeFromSpec,
} from '../src/rules/index.ts';

const logo = route('logo')
  .types('image/png', 'image/jpeg', 'image/webp', 'image/gif')
  .maxSize('20MB')
  .image({ maxWidth: 4096, maxHeight: 4096 })
  .review(true)
  .build();

const isCode = (code: GatewayErrorCode) => (e: unknown) => e instanceof ChuteError && e.code === code;

test('the logo route: types, 1 B..20 MB, post by default, image limits, review (default reasons, 7 d retention, published), 10 min grants', () => {
  assert.deepEqual(logo, {
    name: 'logo',
    types: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
    minSize: 1,
    maxSize: 20_000_000,
    method: 'post',
    image: { maxWidth: 4096, maxHeight: 4096 },
    metadata: {},
    review: true,
    rejectReasons: ['inappropriate', 'low_quality', 'wrong_subject', 'other'],
    rejectedRetentionMs: 7 * 86_400_000,
    publish: { key: 'published/{route}/{userId}/{uploadId}', keepOne: false },
    multipart: undefined,
    lifetimeMs: 600_000,
  });
  assert.ok(Object.isFrozen(logo) && Object.isFrozen(logo.types) && Object.isFrozen(logo.image));
});

test('each builder step returns a new builder; the base is unchanged', () => {
  const base = route('docs').types('application/pdf').maxSize('10MB');
  const big = base.maxSize('1GB');
  assert.equal(base.build().maxSize, 10_000_000);
  assert.equal(big.build().maxSize, 1_000_000_000);
  assert.ok(Object.isFrozen(base));
  assert.throws(() => {
    (base as { name: string }).name = 'x';
  }, TypeError);
});

test('build() without types or maxSize throws (and is a type error)', () => {
  // @ts-expect-error maxSize missing
  assert.throws(() => route('a').types('image/png').build(), /maxSize\(\) is required/);
  // @ts-expect-error types missing
  assert.throws(() => route('a').maxSize('1MB').build(), /types\(\) is required/);
});

test('grant lifetime: "90s" accepted; "59s" refused (clock skew) and "25h" refused', () => {
  const b = route('a').types('image/png').maxSize('1MB');
  assert.equal(b.lifetime('90s').build().lifetimeMs, 90_000);
  assert.throws(() => b.lifetime('59s'), RangeError);
  assert.throws(() => b.lifetime('25h'), RangeError);
});

test('builder refuses a bad route name, type pattern, */*, size above 5 GiB, minSize above maxSize', () => {
  assert.throws(() => route('Logo/x'), TypeError);
  assert.throws(() => route('a').types('png' as 'image/png'), TypeError);
  assert.throws(() => route('a').types('*/*'), TypeError);
  assert.throws(() => route('a').types('image/png').maxSize('6GiB').build(), /above 5 GiB needs multipart/);
  assert.equal(route('a').types('image/png').maxSize('6GiB').multipart().build().maxSize, 6 * 2 ** 30);
  assert.throws(() => route('a').maxSize('6TiB'), /at most 5 TiB/);
  assert.throws(() => route('a').multipart({ threshold: '1MiB' }), /between 5 MiB and 5 GiB/);
  assert.throws(() => route('a').maxSize(0), RangeError);
  assert.throws(() => route('a').types('image/png').maxSize('1KB').minSize('2KB').build(), /minSize/);
});

test('image limits need image types only; bad pixel counts refused', () => {
  assert.throws(
    () => route('a').types('image/png', 'application/pdf').maxSize('1MB').image({ maxWidth: 10 }).build(),
    /image\//,
  );
  assert.throws(() => route('a').image({ maxWidth: 0 }), RangeError);
  assert.throws(() => route('a').image({ maxWidth: 1.5 }), RangeError);
});

test('metadata: keys lowercased; reserved upload-id/user-id and CRLF values refused', () => {
  const r = route('a').types('image/png').maxSize('1MB').metadata({ Folder: 'logos' }).build();
  assert.deepEqual(r.metadata, { folder: 'logos' });
  assert.throws(() => route('a').metadata({ 'user-id': 'x' }), TypeError);
  assert.throws(() => route('a').metadata({ 'upload-id': 'x' }), TypeError);
  assert.throws(() => route('a').metadata({ a: 'x\r\nX-Evil: 1' }), TypeError);
  assert.throws(() => route('a').metadata({ 'a b': 'x' }), TypeError);
});

test('types are lowercased and de-duplicated; image/* allows any image', () => {
  const r = route('a').types('IMAGE/PNG', 'image/png', 'image/*').maxSize('1MB').build();
  assert.deepEqual(r.types, ['image/png', 'image/*']);
});

test('defineRoutes refuses two routes named "logo"', () => {
  const a = route('logo').types('image/png').maxSize('1MB');
  assert.equal(defineRoutes(a).get('logo')?.maxSize, 1_000_000);
  assert.throws(() => defineRoutes(a, a), /defined twice/);
});

test('routeFromSpec builds the same rule as the builder', () => {
  const fromSpec = routeFromSpec({
    name: 'logo',
    types: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
    maxSize: '20MB',
    image: { maxWidth: 4096, maxHeight: 4096 },
    review: true,
  }).build();
  assert.deepEqual(fromSpec, logo);
});

// checkDeclared

const declared = { contentType: 'image/png', size: 1000, filename: 'logo.png' };

test('checkDeclared accepts a 1000-byte PNG and normalises the type', () => {
  const d = checkDeclared(logo, { ...declared, contentType: ' Image/PNG ' });
  assert.deepEqual(d, {
    contentType: 'Image/PNG',
    type: 'image/png',
    size: 1000,
    filename: 'logo.png',
    checksum: undefined,
  });
});

test('checkDeclared: text/html declared on an image route → 415 type_not_allowed', () => {
  assert.throws(
    () => checkDeclared(logo, { ...declared, contentType: 'text/html' }),
    (e: unknown) => {
      assert.ok(e instanceof ChuteError);
      assert.equal(e.code, 'type_not_allowed');
      assert.equal(e.status, 415);
      return true;
    },
  );
  assert.throws(
    () => checkDeclared(logo, { ...declared, contentType: 'image/svg+xml' }),
    isCode('type_not_allowed'),
  );
});

test('checkDeclared: 20 MB + 1 byte → 413 too_large; exactly 20 MB passes', () => {
  assert.throws(
    () => checkDeclared(logo, { ...declared, size: 20_000_001 }),
    (e: unknown) => {
      assert.ok(e instanceof ChuteError && e.code === 'too_large' && e.status === 413);
      assert.match(e.message, /20 MB/);
      return true;
    },
  );
  assert.equal(checkDeclared(logo, { ...declared, size: 20_000_000 }).size, 20_000_000);
});

test('checkDeclared: an empty file → too_small (default minimum 1 byte)', () => {
  assert.throws(() => checkDeclared(logo, { ...declared, size: 0 }), isCode('too_small'));
});

for (const [what, patch] of [
  ['size -1', { size: -1 }],
  ['size 1.5', { size: 1.5 }],
  ['size as a string', { size: '1000' as unknown as number }],
  ['contentType "png"', { contentType: 'png' }],
  ['contentType with CRLF', { contentType: 'image/png\r\nx-amz-acl: public-read' }],
  ['empty filename', { filename: '' }],
  ['filename with a path', { filename: '../../etc/passwd' }],
  ['filename with a NUL', { filename: 'a\0.png' }],
  ['filename of 256 characters', { filename: `${'a'.repeat(252)}.png` }],
  ['checksum not SHA-256', { checksum: 'abc' }],
] as const) {
  test(`checkDeclared: ${what} → invalid_request`, () => {
    assert.throws(() => checkDeclared(logo, { ...declared, ...patch }), isCode('invalid_request'));
  });
}

test('checkDeclared: a hex SHA-256 becomes base64; a base64 one is kept', () => {
  const hex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const b64 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
  assert.equal(checkDeclared(logo, { ...declared, checksum: hex }).checksum, b64);
  assert.equal(checkDeclared(logo, { ...declared, checksum: b64 }).checksum, b64);
});

// compilers

const uploadId = 'up_0123456789abcdefghijkl';
const input = {
  bucket: 'chute',
  key: `incoming/alice/${uploadId}`,
  uploadId,
  userId: 'alice',
  contentType: 'image/png',
  size: 1000,
};

test('postConditions: exact key, type, owner metadata, status 201, length = declared size', () => {
  assert.deepEqual(postConditions(logo, input), [
    { bucket: 'chute' },
    ['eq', '$key', `incoming/alice/${uploadId}`],
    ['eq', '$Content-Type', 'image/png'],
    ['eq', '$x-amz-meta-upload-id', uploadId],
    ['eq', '$x-amz-meta-user-id', 'alice'],
    ['eq', '$success_action_status', '201'],
    ['content-length-range', 1000, 1000],
  ]);
});

test('postConditions never uses starts-with (a client-chosen key suffix could overwrite a sibling)', () => {
  const r: RouteRule = route('a').types('image/*').maxSize('1MB').metadata({ folder: 'x' }).build();
  const c = postConditions(r, input);
  assert.ok(c.every((x) => !Array.isArray(x) || x[0] !== 'starts-with'));
  assert.ok(c.some((x) => Array.isArray(x) && x[1] === '$x-amz-meta-folder' && x[2] === 'x'));
});

test('postFields covers every eq condition and nothing else (no bucket field, no range)', () => {
  const r = route('a').types('image/png').maxSize('1MB').metadata({ folder: 'x' }).build();
  assert.deepEqual(postFields(postConditions(r, input)), {
    key: `incoming/alice/${uploadId}`,
    'Content-Type': 'image/png',
    'x-amz-meta-upload-id': uploadId,
    'x-amz-meta-user-id': 'alice',
    'x-amz-meta-folder': 'x',
    success_action_status: '201',
  });
});

test('putSignedHeaders signs type, length, owner metadata; checksum only when declared', () => {
  const base = { uploadId, userId: 'alice', contentType: 'image/png', size: 1000 };
  assert.deepEqual(putSignedHeaders(logo, base), {
    'content-type': 'image/png',
    'content-length': '1000',
    'x-amz-meta-upload-id': uploadId,
    'x-amz-meta-user-id': 'alice',
  });
  const sum = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
  assert.equal(putSignedHeaders(logo, { ...base, checksum: sum })['x-amz-checksum-sha256'], sum);
});

test('review options and publish templates: defaults, and every bad input refused where it is written', () => {
  const base = () => route('logo').types('image/png').maxSize('1MB');
  const r = base()
    .review({ reasons: ['blurry', 'blurry', 'off_brand'], retention: '1h' })
    .build();
  assert.deepEqual(r.rejectReasons, ['blurry', 'off_brand']);
  assert.equal(r.rejectedRetentionMs, 3_600_000);
  assert.deepEqual(r.publish, { key: 'published/{route}/{userId}/{uploadId}', keepOne: false });
  assert.equal(base().build().publish, undefined, 'no review, no publish: nothing is published');
  assert.deepEqual(base().publish({ key: 'a/{userId}/current', keepOne: true }).build().publish, {
    key: 'a/{userId}/current',
    keepOne: true,
  });
  const bad: [() => unknown, RegExp][] = [
    [() => base().review({ reasons: [] }), /at least one reason/],
    [() => base().review({ reasons: ['Bad Reason'] }), /review reason/],
    [() => base().review({ retention: '400d' }), /at most 365d/],
    [() => base().review({ retention: 'soon' as '1h' }), /invalid duration/],
    [() => base().review({ reason: ['x'] } as never), /unknown review option/],
    [() => base().publish({ key: 'published/{uploadId}' }), /must contain \{userId\}/],
    [() => base().publish({ key: 'p/{userId}/{name}' }), /unknown placeholder \{name\}/],
    [() => base().publish({ key: 'p/{userId}/../x/{uploadId}' }), /without empty, \. or \.\. segments/],
    [() => base().publish({ key: '/p/{userId}/{uploadId}' }), /relative key/],
    [() => base().publish({ key: 'p//{userId}/{uploadId}' }), /relative key/],
    [() => base().publish({ key: 'files/{userId}/{uploadId}' }), /must not start with incoming\/ or files\//],
    [() => base().publish({ key: 'incoming/{userId}/{uploadId}' }), /must not start with/],
    [() => base().publish({ key: 'p/{userId}/a b/{uploadId}' }), /use only/],
    [() => base().publish({ key: 'p/{userId}/%2e%2e/{uploadId}' }), /use only/],
    [() => base().publish({ key: 'p/{userId}/current' }), /set keepOne/],
  ];
  for (const [make, message] of bad) assert.throws(make, message);
});

test('publishedKey fills the template and refuses unsafe parts', () => {
  const rule = publishRule('t', { key: 'x/{route}/{userId}/{uploadId}' });
  const id = 'up_0000000000000000000000';
  assert.equal(publishedKey(rule, { route: 'logo', userId: 'alice', uploadId: id }), `x/logo/alice/${id}`);
  assert.throws(() => publishedKey(rule, { route: 'logo', userId: '../bob', uploadId: id }), /unsafe/);
  assert.throws(() => publishedKey(rule, { route: 'logo', userId: 'alice', uploadId: 'up_x' }), /unsafe/);
});
