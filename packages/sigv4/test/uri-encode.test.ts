import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uriDecode, uriEncode, uriEncodePath } from '../src/uri-encode.ts';

describe('uriEncode', () => {
  const cases: [string, string, string][] = [
    ['unreserved A-Z a-z 0-9 - . _ ~ stay', 'AZaz09-._~', 'AZaz09-._~'],
    ['space is %20, never +', 'a b', 'a%20b'],
    ['+ = @ are encoded', '+=@', '%2B%3D%40'],
    ["encodeURIComponent's gaps ! ' ( ) * are encoded", "!'()*", '%21%27%28%29%2A'],
    ['/ is encoded outside paths', 'a/b', 'a%2Fb'],
    ['% itself', '100%', '100%25'],
    ['UTF-8 bytes, uppercase hex (é, 日, 😀)', 'é日😀', '%C3%A9%E6%97%A5%F0%9F%98%80'],
    ['empty string', '', ''],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.equal(uriEncode(input), expected));
  }

  it('keeps / in paths, including repeated // and a trailing /', () => {
    assert.equal(uriEncodePath('/b/a b//c+d/'), '/b/a%20b//c%2Bd/');
  });

  it('does not normalise . and .. segments (S3 keys may contain them)', () => {
    assert.equal(uriEncodePath('/b/./../k'), '/b/./../k');
  });

  it('throws on a lone surrogate (not representable in UTF-8)', () => {
    assert.throws(() => uriEncode('\ud800'));
  });
});

describe('uriDecode', () => {
  it('decodes %XX (either case) and leaves + alone in paths', () => {
    assert.equal(uriDecode('a%20b+c%c3%a9'), 'a b+cé');
  });
  it('turns + into space in query strings', () => {
    assert.equal(uriDecode('a+b%2B', true), 'a b+');
  });
  it('keeps a malformed escape ("%zz", "%") instead of throwing', () => {
    assert.equal(uriDecode('a%zz%20b%'), 'a%zz b%');
  });
});
