import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalHeaders, canonicalHeaderValue, headerValue } from '../src/canonical-headers.ts';

describe('canonical headers', () => {
  it('trims and collapses runs of spaces and tabs ("  a \\t  b  " → "a b")', () => {
    assert.equal(canonicalHeaderValue('  a \t  b  '), 'a b');
  });
  it('turns folded lines into spaces', () => {
    assert.equal(canonicalHeaderValue('a\r\n b'), 'a b');
  });
  it('leaves a clean value as is', () => {
    assert.equal(canonicalHeaderValue('text/plain; charset=utf-8'), 'text/plain; charset=utf-8');
  });
  it('sorts names and builds SignedHeaders', () => {
    const c = canonicalHeaders({ 'x-amz-date': 'd', host: 'h', 'content-type': ' t ' });
    assert.equal(c.block, 'content-type:t\nhost:h\nx-amz-date:d\n');
    assert.equal(c.signedHeaders, 'content-type;host;x-amz-date');
  });
  it("joins repeated headers (node's string[]) with ',' and no space", () => {
    assert.equal(headerValue({ 'x-amz-meta-a': ['1 ', ' 2'] }, 'x-amz-meta-a'), '1,2');
    assert.equal(headerValue({}, 'x'), undefined);
  });
});
