import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3_CODES, S3Error } from '../src/index.ts';

test('every code has a 4xx/5xx status and a non-empty message', () => {
  for (const [code, { status, message }] of Object.entries(S3_CODES)) {
    assert.ok(status >= 400 && status < 600, `${code} status ${status}`);
    assert.ok(message.length > 0, `${code} message`);
  }
});

test('S3Error takes status and default message from the registry', () => {
  const e = new S3Error('NoSuchKey');
  assert.equal(e.status, 404);
  assert.equal(e.message, 'The specified key does not exist.');
  const f = new S3Error('EntityTooLarge', undefined, { ProposedSize: '10', MaxSizeAllowed: '5' });
  assert.equal(f.status, 400);
  assert.deepEqual(f.details, { ProposedSize: '10', MaxSizeAllowed: '5' });
  assert.equal(new S3Error('AccessDenied', 'Policy expired').message, 'Policy expired');
});
