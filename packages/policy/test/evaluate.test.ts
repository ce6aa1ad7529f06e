import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, parsePolicy } from '../src/index.ts';
import { assertS3Error } from './helpers.ts';

// AWS's own SigV4 example ("Example: Browser-Based Upload using HTTP POST"), decoded.
const AWS_EXAMPLE = [
  '{ "expiration": "2015-12-30T12:00:00.000Z",',
  '  "conditions": [',
  '    {"bucket": "sigv4examplebucket"},',
  '    ["starts-with", "$key", "user/user1/"],',
  '    {"acl": "public-read"},',
  '    {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},',
  '    ["starts-with", "$Content-Type", "image/"],',
  '    {"x-amz-meta-uuid": "14365123651274"},',
  '    {"x-amz-server-side-encryption": "AES256"},',
  '    ["starts-with", "$x-amz-meta-tag", ""],',
  '',
  '    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},',
  '    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},',
  '    {"x-amz-date": "20151229T000000Z" }',
  '  ]',
  '}',
].join('\r\n');

// The example's form, with its own field spellings.
const FORM = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally.
  key: 'user/user1/${filename}',
  acl: 'public-read',
  success_action_redirect: 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html',
  'Content-Type': 'image/jpeg',
  'x-amz-meta-uuid': '14365123651274',
  'x-amz-server-side-encryption': 'AES256',
  'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request',
  'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
  'X-Amz-Date': '20151229T000000Z',
  'x-amz-meta-tag': '',
  Policy: Buffer.from(AWS_EXAMPLE).toString('base64'),
  'X-Amz-Signature': '8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e',
};
const NOW = Date.UTC(2015, 11, 29, 12);

test("evaluate: AWS's SigV4 example form passes its policy; the same form to another bucket fails", () => {
  const policy = parsePolicy(AWS_EXAMPLE);
  const d = evaluate(policy, FORM, 1024, 'sigv4examplebucket', { now: NOW, filename: 'photo.jpg' });
  assert.equal(d.key, 'user/user1/photo.jpg');
  assertS3Error(
    () => evaluate(policy, FORM, 1024, 'otherbucket', { now: NOW, filename: 'photo.jpg' }),
    'AccessDenied',
    'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]',
  );
});

test('evaluate: the size is checked after the form — a form that fails never reaches the size check', () => {
  const policy = parsePolicy(
    JSON.stringify({
      expiration: '2015-12-30T12:00:00Z',
      conditions: [{ bucket: 'b' }, { key: 'k' }, ['content-length-range', 1, 10], ...signing()],
    }),
  );
  const form = { key: 'k', ...signingFields() };
  assert.equal(evaluate(policy, form, 10, 'b', { now: NOW }).key, 'k');
  assert.throws(() => evaluate(policy, form, 11, 'b', { now: NOW }), { code: 'EntityTooLarge' });
  assert.throws(() => evaluate(policy, { ...form, key: 'x' }, 11, 'b', { now: NOW }), {
    code: 'AccessDenied',
  });
});

function signing() {
  return [{ 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': 'c' }, { 'x-amz-date': 'd' }];
}
function signingFields() {
  return {
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': 'c',
    'x-amz-date': 'd',
    'x-amz-signature': 's',
  };
}
