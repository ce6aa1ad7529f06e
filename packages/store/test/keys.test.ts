import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareUtf8, isValidBucketName } from '../src/keys.ts';

test('compareUtf8 sorts as UTF-8 bytes (astral after U+FFFD, unlike UTF-16 order)', () => {
  const keys = ['\u{1F600}', '\uFFFD', 'a', 'B', 'a/b', 'a-b', 'é', ''];
  const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...keys].sort(compareUtf8), bytes);
});

test('bucket names follow S3 naming rules', () => {
  for (const ok of ['abc', 'my-bucket', 'my.bucket.1', 'a'.repeat(63)]) assert.ok(isValidBucketName(ok), ok);
  for (const bad of [
    'ab',
    'a'.repeat(64),
    'My-Bucket',
    '-abc',
    'abc-',
    'a..b',
    '192.168.1.1',
    'xn--abc',
    'a_b',
    'abc-s3alias',
    'a.-b',
  ]) {
    assert.ok(!isValidBucketName(bad), bad);
  }
});
