import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkForm, type FormFields, type PostPolicy } from '../src/index.ts';
import {
  assertS3Error,
  BUCKET,
  formWith,
  LATER,
  NOW,
  policyWith,
  SIGNING,
  SIGNING_CONDITIONS,
} from './helpers.ts';

const check = (policy: PostPolicy, fields: FormFields, opts: { filename?: string; now?: number } = {}) =>
  checkForm(policy, fields, BUCKET, { now: NOW, ...opts });
const failed = (policy: PostPolicy, fields: FormFields, echo: string) =>
  assertS3Error(
    () => check(policy, fields),
    'AccessDenied',
    `Invalid according to Policy: Policy Condition failed: ${echo}`,
  );
const extra = (policy: PostPolicy, fields: FormFields, name: string) =>
  assertS3Error(
    () => check(policy, fields),
    'AccessDenied',
    `Invalid according to Policy: Extra input fields: ${name}`,
  );

test('object condition {"acl": "private"}: holds for acl=private, fails for acl=public-read', () => {
  const p = policyWith({ acl: 'private' });
  assert.equal(check(p, formWith({ acl: 'private' })).key, 'k');
  failed(p, formWith({ acl: 'public-read' }), '["eq", "$acl", "private"]');
});

test('["eq", "$key", "k"]: holds for key=k, fails for key=k2', () => {
  assert.equal(check(policyWith(), formWith()).key, 'k');
  failed(policyWith(), formWith({ key: 'k2' }), '["eq", "$key", "k"]');
});

test('["starts-with", "$x-amz-meta-tag", "user/"]: holds for user/1, fails for users/1', () => {
  const p = policyWith(['starts-with', '$x-amz-meta-tag', 'user/']);
  assert.ok(check(p, formWith({ 'x-amz-meta-tag': 'user/1' })));
  failed(p, formWith({ 'x-amz-meta-tag': 'users/1' }), '["starts-with", "$x-amz-meta-tag", "user/"]');
});

test('["starts-with", "$success_action_redirect", ""] allows any value (even empty), not a missing field', () => {
  const p = policyWith(['starts-with', '$success_action_redirect', '']);
  assert.ok(check(p, formWith({ success_action_redirect: 'https://anything.example/x' })));
  assert.ok(check(p, formWith({ success_action_redirect: '' })));
  failed(p, formWith(), '["starts-with", "$success_action_redirect", ""]');
});

test('field names are case-insensitive ($KeY vs kEy, {"AcL"} vs aCl) but a name without "$" names no field', () => {
  const p: PostPolicy = {
    expiration: LATER,
    conditions: [
      { bUcKeT: BUCKET },
      ['starts-with', '$KeY', 'fo'],
      { AcL: 'private' },
      ['starts-with', '$CoNtEnT-TyPe', 'text/'],
      ...SIGNING_CONDITIONS,
    ],
  };
  const fields = { ...SIGNING, kEy: 'foo.txt', aCl: 'private', 'content-type': 'text/plain' };
  assert.equal(check(p, fields).key, 'foo.txt');
  failed(policyWith(['eq', 'acl', 'private']), formWith({ acl: 'private' }), '["eq", "acl", "private"]');
});

test('values are case-sensitive: eq http://a.example fails for HTTP://a.example, starts-with Image/ fails for image/png', () => {
  const p = policyWith(
    ['eq', '$success_action_redirect', 'http://a.example'],
    ['starts-with', '$Content-Type', 'image/'],
  );
  assert.ok(check(p, formWith({ success_action_redirect: 'http://a.example', 'Content-Type': 'image/png' })));
  failed(
    p,
    formWith({ success_action_redirect: 'HTTP://a.example', 'Content-Type': 'image/png' }),
    '["eq", "$success_action_redirect", "http://a.example"]',
  );
  failed(
    policyWith(['starts-with', '$Content-Type', 'Image/']),
    formWith({ 'Content-Type': 'image/png' }),
    '["starts-with", "$Content-Type", "Image/"]',
  );
});

test('starts-with is refused on exact-only fields (bucket, success_action_status, x-amz-credential, x-amz-server-side-encryption)', () => {
  // Allowed: key, acl, REST headers, redirect, x-amz-meta-*, and fields the table does not name.
  const allowed = policyWith(
    ['starts-with', '$acl', ''],
    ['starts-with', '$Cache-Control', 'max-age'],
    ['starts-with', '$redirect', 'https://'],
    ['starts-with', '$x-amz-meta-uuid', ''],
    ['starts-with', '$tagging', ''],
  );
  const fields = {
    acl: 'private',
    'Cache-Control': 'max-age=60',
    redirect: 'https://a.example',
    'x-amz-meta-uuid': '1',
    tagging: '<Tagging/>',
  };
  assert.ok(check(allowed, formWith(fields)));

  const exactOnly: [string, string][] = [
    ['bucket', BUCKET],
    ['success_action_status', '201'],
    ['X-Amz-Credential', SIGNING['X-Amz-Credential']!],
    ['x-amz-server-side-encryption', 'AES256'],
  ];
  for (const [field, value] of exactOnly) {
    const cond: PostPolicy['conditions'][number] = ['starts-with', `$${field}`, ''];
    failed(policyWith(cond), formWith({ [field]: value }), `["starts-with", "$${field}", ""]`);
    assert.ok(check(policyWith({ [field]: value }), formWith({ [field]: value })), `eq on ${field}`);
  }
});

test('starts-with on Content-Type reads "a,b" as a list: image/jpg,image/png passes, image/jpg,text/plain fails', () => {
  const p = policyWith(['starts-with', '$Content-Type', 'image/']);
  assert.ok(check(p, formWith({ 'Content-Type': 'image/jpg,image/png,image/gif' })));
  assert.ok(check(p, formWith({ 'Content-Type': 'image/png, image/gif' })));
  failed(
    p,
    formWith({ 'Content-Type': 'image/jpg,text/plain' }),
    '["starts-with", "$Content-Type", "image/"]',
  );
  // "Data elements other than Content-Type are treated as strings, regardless of the presence of commas."
  const meta = policyWith(['starts-with', '$x-amz-meta-tags', 'a']);
  assert.ok(check(meta, formWith({ 'x-amz-meta-tags': 'a1,b2' })));
});

test('the bucket condition is checked against the target bucket, not a `bucket` form field', () => {
  const p = policyWith();
  assert.ok(check(p, formWith()));
  assert.ok(check(p, formWith({ bucket: BUCKET })));
  assertS3Error(
    () => checkForm(p, formWith({ bucket: BUCKET }), 'other-bucket', { now: NOW }),
    'AccessDenied',
    `Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "${BUCKET}"]`,
  );
});

test('every field needs a condition: an uncovered Content-Type → Extra input fields: content-type (lowercased)', () => {
  const covered = policyWith(['starts-with', '$Content-Type', '']);
  assert.ok(check(covered, formWith({ 'Content-Type': 'text/plain' })));
  extra(policyWith(), formWith({ 'Content-Type': 'text/plain' }), 'content-type');
  extra(policyWith(), formWith({ Filename: 'a.txt' }), 'filename');
  // A `bucket` field is a field too: without a bucket condition it is extra.
  const noBucket: PostPolicy = {
    expiration: LATER,
    conditions: [['eq', '$key', 'k'], ...SIGNING_CONDITIONS],
  };
  extra(noBucket, formWith({ bucket: BUCKET }), 'bucket');
  // A field named __proto__ is still a field, with or without ${filename} expansion.
  const proto = formWith(JSON.parse('{"__proto__": "x"}'));
  extra(policyWith(), proto, '__proto__');
  assertS3Error(
    () => check(policyWith(), proto, { filename: 'a.txt' }),
    'AccessDenied',
    'Invalid according to Policy: Extra input fields: __proto__',
  );
});

test('x-amz-signature, file, policy and x-ignore-* need no condition; x-amz-security-token does', () => {
  assert.ok(
    check(policyWith(), formWith({ file: 'bytes', 'X-Ignore-Submit': 'Upload', 'x-ignore-me': '1' })),
  );
  extra(policyWith(), formWith({ 'X-Amz-Security-Token': 'token' }), 'x-amz-security-token');
});

test('SigV2 forms: AWSAccessKeyId and signature need no condition there, but do in a SigV4 form', () => {
  const v2: PostPolicy = { expiration: LATER, conditions: [{ bucket: BUCKET }, ['eq', '$key', 'k']] };
  const v2Form = { key: 'k', AWSAccessKeyId: 'AKIAIOSFODNN7EXAMPLE', signature: 'c2ln', policy: 'eyJ9' };
  assert.equal(check(v2, v2Form).key, 'k');
  extra(policyWith(), formWith({ AWSAccessKeyId: 'AKIAIOSFODNN7EXAMPLE' }), 'awsaccesskeyid');
});

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: S3's ${filename} form variable.
test('${filename} is expanded before the checks (path stripped); without a filename it stays literal', () => {
  const keyIs = (key: string): PostPolicy => ({
    expiration: LATER,
    conditions: [
      { bucket: BUCKET },
      ['eq', '$key', key],
      ...SIGNING_CONDITIONS,
      ['starts-with', '$x-amz-meta-name', 'cat'],
    ],
  });
  const fields = formWith({ key: 'user/${filename}', 'x-amz-meta-name': '${filename}' });

  const d = check(keyIs('user/cat.jpg'), fields, { filename: 'C:\\Pictures\\cat.jpg' });
  assert.equal(d.key, 'user/cat.jpg');
  assert.equal(d.fields['x-amz-meta-name'], 'cat.jpg');
  const dollar = check(keyIs('user/cat$&.jpg'), fields, { filename: '/tmp/cat$&.jpg' });
  assert.equal(dollar.key, 'user/cat$&.jpg');
  assertS3Error(
    () => check(keyIs('user/${filename}'), fields, { filename: 'cat.jpg' }),
    'AccessDenied',
    'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "user/${filename}"]',
  );
  // The part had no filename parameter: S3 keeps the variable as written.
  const literal = check(keyIs('user/${filename}'), { ...fields, 'x-amz-meta-name': 'cat' });
  assert.equal(literal.key, 'user/${filename}');
});
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: S3's ${filename} form variable.

test('a condition on a field the form did not send fails, even ["eq", "$f", ""] and ["starts-with", "$f", ""]', () => {
  assert.ok(check(policyWith(['eq', '$x-amz-meta-note', '']), formWith({ 'x-amz-meta-note': '' })));
  failed(policyWith(['eq', '$x-amz-meta-note', '']), formWith(), '["eq", "$x-amz-meta-note", ""]');
  failed(
    policyWith(['starts-with', '$Content-Type', '']),
    formWith(),
    '["starts-with", "$Content-Type", ""]',
  );
});

test('expiration: valid at its instant, "Policy expired." one millisecond after', () => {
  const at = Date.parse(LATER);
  assert.ok(check(policyWith(), formWith(), { now: at }));
  assertS3Error(
    () => check(policyWith(), formWith(), { now: at + 1 }),
    'AccessDenied',
    'Invalid according to Policy: Policy expired.',
  );
});

test('a failed condition is echoed as S3 prints it: simple as eq, field spelled as in the policy, quotes escaped', () => {
  failed(
    policyWith({ 'Content-Disposition': 'x' }),
    formWith({ 'content-disposition': 'y' }),
    '["eq", "$Content-Disposition", "x"]',
  );
  failed(
    policyWith(['eq', '$Content-Disposition', 'filename="test.png"']),
    formWith({ 'Content-Disposition': 'inline' }),
    '["eq", "$Content-Disposition", "filename=\\"test.png\\""]',
  );
  failed(
    policyWith(['content-length-range', 'test', '10']),
    formWith(),
    '["content-length-range", "test", "10"]',
  );
});

test('a missing key (or empty) → InvalidArgument naming key, with ArgumentName/ArgumentValue', () => {
  const { key: _, ...noKey } = formWith();
  const message =
    "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.";
  for (const fields of [noKey, formWith({ key: '' })]) {
    assertS3Error(() => check(policyWith(), fields), 'InvalidArgument', message, {
      ArgumentName: 'key',
      ArgumentValue: '',
    });
  }
});

test('a missing SigV4 field (X-Amz-Algorithm and X-Amz-Credential dropped) → InvalidArgument naming X-Amz-Algorithm', () => {
  const { 'X-Amz-Algorithm': _a, 'X-Amz-Credential': _c, ...fields } = formWith();
  const message =
    "Bucket POST must contain a field named 'X-Amz-Algorithm'.  If it is specified, please check the order of the fields.";
  assertS3Error(() => check(policyWith(), fields), 'InvalidArgument', message, {
    ArgumentName: 'X-Amz-Algorithm',
    ArgumentValue: '',
  });
  const { 'X-Amz-Signature': _s, ...noSignature } = formWith();
  assertS3Error(
    () => check(policyWith(), noSignature),
    'InvalidArgument',
    "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the order of the fields.",
  );
  // A SigV2 form is asked for its own fields.
  assertS3Error(
    () => check(policyWith(), { key: 'k', AWSAccessKeyId: 'AKIAIOSFODNN7EXAMPLE' }),
    'InvalidArgument',
    "Bucket POST must contain a field named 'Signature'.  If it is specified, please check the order of the fields.",
  );
});

test('two spellings of one field (Key and key) are one field, values joined with a comma', () => {
  failed(policyWith(), formWith({ Key: 'evil' }), '["eq", "$key", "k"]');
  const joined = policyWith();
  joined.conditions[1] = ['eq', '$key', 'k,evil'];
  assert.equal(check(joined, formWith({ Key: 'evil' })).key, 'k,evil');
});

test('order: missing field before expiry, expiry before conditions, conditions before extra fields', () => {
  const expired = { ...policyWith({ acl: 'private' }), expiration: '2026-11-21T11:00:00Z' };
  assertS3Error(
    () => check(expired, { ...formWith({ acl: 'public-read' }), key: '' }),
    'InvalidArgument',
    "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
  );
  assertS3Error(
    () => check(expired, formWith({ acl: 'public-read' })),
    'AccessDenied',
    'Invalid according to Policy: Policy expired.',
  );
  failed(
    policyWith({ acl: 'private' }),
    formWith({ acl: 'public-read', extra: '1' }),
    '["eq", "$acl", "private"]',
  );
});

test('lengthRange: absent without content-length-range; several ranges narrow to their overlap', () => {
  assert.equal(check(policyWith(), formWith()).lengthRange, undefined);
  const p = policyWith(['content-length-range', 0, 100], ['content-length-range', '10', '1000']);
  assert.deepEqual(check(p, formWith()).lengthRange, { min: 10, max: 100 });
});
