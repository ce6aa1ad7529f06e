// The file's end as file-bytes.ts finds it: the first CRLF--boundary, whatever the chunking.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { DelimiterScanner } from '../src/post/file-bytes.ts';

const B = '----WebKitFormBoundary7MA4YWxkTrZu0gW';

/** Deterministic pseudo-random chunk sizes (1..max) so a failure can be replayed. */
function* sizes(seed: number, max: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    yield 1 + (x % max);
  }
}

function split(buf: Buffer, seed: number, max: number): Buffer[] {
  const out: Buffer[] = [];
  const it = sizes(seed, max);
  for (let i = 0; i < buf.length; ) {
    const n = it.next().value as number;
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** File contents that look like a delimiter without being one. */
const TRICKY = [
  Buffer.alloc(0),
  Buffer.from('plain'),
  Buffer.from(`--${B}`), // no CRLF before it
  Buffer.from(`\r\n--${B.slice(0, -1)}`), // one byte short
  Buffer.from(`x\r\n--${B.slice(0, 10)}\r\n--${B.slice(0, 20)}y`),
  Buffer.from('\r\n\r\n\r\n--\r\n--'),
  Buffer.concat([randomBytes(70_000), Buffer.from(`\r\n--${B.slice(0, -2)}`), randomBytes(5)]),
];

describe('DelimiterScanner', () => {
  for (const [i, content] of TRICKY.entries()) {
    test(`splits tricky content #${i} at the delimiter, whatever the chunking`, () => {
      const stream = Buffer.concat([
        content,
        Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="after"\r\n\r\nx`),
      ]);
      for (const seed of [1, 2, 3, 4, 5]) {
        for (const max of [1, 3, B.length, 64, 100_000]) {
          const scanner = new DelimiterScanner(Buffer.from(`\r\n--${B}`));
          const got: Buffer[] = [];
          let done = false;
          for (const chunk of split(stream, seed, max)) {
            const r = scanner.push(chunk);
            got.push(...r.data);
            if (r.done) {
              done = true;
              break;
            }
          }
          assert.ok(done, `seed ${seed} max ${max}`);
          assert.ok(Buffer.concat(got).equals(content), `seed ${seed} max ${max}`);
        }
      }
    });
  }

  test('without a delimiter it never finishes and holds back less than one delimiter', () => {
    const scanner = new DelimiterScanner(Buffer.from(`\r\n--${B}`));
    let out = 0;
    for (const chunk of split(randomBytes(10_000), 9, 500))
      out += Buffer.concat(scanner.push(chunk).data).length;
    const rest = scanner.push(Buffer.alloc(0));
    assert.equal(rest.done, false);
    assert.ok(out < 10_000 && out > 10_000 - (B.length + 4), 'holds back less than one delimiter');
  });
});
