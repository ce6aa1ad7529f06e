import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLength } from '../src/index.ts';
import { assertS3Error } from './helpers.ts';

const range = { min: 5, max: 10 };

test('content-length-range is inclusive: 5 and 10 pass [5, 10]; 11 → EntityTooLarge with ProposedSize/MaxSizeAllowed', () => {
  checkLength(range, 5);
  checkLength(range, 10);
  assertS3Error(
    () => checkLength(range, 11),
    'EntityTooLarge',
    'Your proposed upload exceeds the maximum allowed size',
    {
      ProposedSize: '11',
      MaxSizeAllowed: '10',
    },
  );
});

test('a file of 4 bytes against [5, 10] → EntityTooSmall with ProposedSize/MinSizeAllowed', () => {
  assertS3Error(
    () => checkLength(range, 4),
    'EntityTooSmall',
    'Your proposed upload is smaller than the minimum allowed size',
    { ProposedSize: '4', MinSizeAllowed: '5' },
  );
});

test('no range (policy without content-length-range) allows any size; [0, 0] allows only an empty file', () => {
  checkLength(undefined, 5 * 1024 ** 3);
  checkLength({ min: 0, max: 0 }, 0);
  assert.throws(() => checkLength({ min: 0, max: 0 }, 3), { code: 'EntityTooLarge' });
});
