import assert from 'node:assert/strict';
import { test } from 'node:test';
import { essence, isTypePattern, typeAllowed } from '../src/rules/mime.ts';

test('essence lowercases and drops parameters', () => {
  assert.equal(essence('Image/PNG'), 'image/png');
  assert.equal(essence(' text/plain; charset=utf-8 '), 'text/plain');
});

for (const bad of ['png', 'image/', '/png', 'image/png\r\nX-Evil: 1', 'image/png; a=\nb', 'image png']) {
  test(`essence refuses ${JSON.stringify(bad)}`, () => assert.equal(essence(bad), undefined));
}

test('typeAllowed: exact and type/* patterns', () => {
  assert.ok(typeAllowed('image/png', ['image/png']));
  assert.ok(typeAllowed('image/webp', ['image/*']));
  assert.ok(!typeAllowed('image/svg+xml', ['image/png', 'image/jpeg']));
  assert.ok(!typeAllowed('text/html', ['image/*']));
  assert.ok(!typeAllowed('imagex/png', ['image/*']), 'prefix of the top-level type is not enough');
});

test('isTypePattern refuses */*, parameters and uppercase', () => {
  assert.ok(isTypePattern('image/*'));
  assert.ok(isTypePattern('application/pdf'));
  assert.ok(!isTypePattern('*/*'));
  assert.ok(!isTypePattern('text/plain; charset=utf-8'));
  assert.ok(!isTypePattern('Image/PNG'));
});
