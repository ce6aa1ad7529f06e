import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuery, parseQuery } from '../src/canonical-query.ts';

describe('canonicalQuery', () => {
  it('sorts by encoded name by code point (uppercase before lowercase)', () => {
    assert.equal(
      canonicalQuery([
        ['b', '1'],
        ['X-Amz-Date', '2'],
        ['a', '3'],
      ]),
      'X-Amz-Date=2&a=3&b=1',
    );
  });
  it('sorts duplicate names by value', () => {
    assert.equal(
      canonicalQuery([
        ['k', 'b'],
        ['k', 'a'],
      ]),
      'k=a&k=b',
    );
  });
  it('sorts a name before its extensions whatever the values ("a" before "a-b")', () => {
    assert.equal(
      canonicalQuery([
        ['a-b', '1'],
        ['a', 'z'],
      ]),
      'a=z&a-b=1',
    );
  });
  it('gives a parameter without value an empty value ("uploads=")', () => {
    assert.equal(canonicalQuery(parseQuery('uploads')), 'uploads=');
  });
  it('encodes names and values with the SigV4 rules (space, +, /, =)', () => {
    assert.equal(canonicalQuery([['prefix', 'a b/c+d=e']]), 'prefix=a%20b%2Fc%2Bd%3De');
  });
  it('leaves out X-Amz-Signature when asked', () => {
    assert.equal(canonicalQuery(parseQuery('X-Amz-Signature=abc&a=1'), 'X-Amz-Signature'), 'a=1');
  });
});

describe('parseQuery', () => {
  it('decodes pairs in wire order, "+" as space, empty parts skipped', () => {
    assert.deepEqual(parseQuery('a=1&&b&c=x+y%2B&d='), [
      ['a', '1'],
      ['b', ''],
      ['c', 'x y+'],
      ['d', ''],
    ]);
  });
  it('splits on the first "=" only ("a=b=c")', () => {
    assert.deepEqual(parseQuery('a=b=c'), [['a', 'b=c']]);
  });
});
