import assert from 'node:assert/strict';
import { isS3Error, type S3ErrorCode } from '@chute/errors';
import type { Condition, FormFields, PostPolicy } from '../src/index.ts';

/** 2026-11-21T12:00:00Z, the server clock in these tests. */
export const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
export const LATER = '2026-11-21T13:00:00.000Z';
export const BUCKET = 'uploads';

/** The SigV4 fields every signed form carries, and the conditions that cover them. */
export const SIGNING: FormFields = {
  'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
  'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20261121/us-east-1/s3/aws4_request',
  'X-Amz-Date': '20261121T120000Z',
  'X-Amz-Signature': 'ab'.repeat(32),
  Policy: 'eyJ9',
};
export const SIGNING_CONDITIONS: Condition[] = [
  { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
  { 'x-amz-credential': 'AKIAIOSFODNN7EXAMPLE/20261121/us-east-1/s3/aws4_request' },
  { 'x-amz-date': '20261121T120000Z' },
];

/** A policy whose conditions cover the signing fields, `bucket` and `key` = k, plus `extra`. */
export function policyWith(...extra: Condition[]): PostPolicy {
  return {
    expiration: LATER,
    conditions: [{ bucket: BUCKET }, ['eq', '$key', 'k'], ...SIGNING_CONDITIONS, ...extra],
  };
}

/** A signed form with `key` = k, plus `extra`. */
export function formWith(extra: FormFields = {}): FormFields {
  return { key: 'k', ...SIGNING, ...extra };
}

export function assertS3Error(
  fn: () => unknown,
  code: S3ErrorCode,
  message: string,
  details?: Record<string, string>,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isS3Error(e), `not an S3Error: ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    if (details) assert.deepEqual(e.details, details);
    return true;
  });
}
