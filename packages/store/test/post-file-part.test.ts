import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { boundaryOf, FilePartScanner, fileDataOffset } from '../src/post/file-part.ts';
import { readPostForm } from '../src/post/form.ts';

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

describe('FilePartScanner', () => {
  for (const [i, content] of TRICKY.entries()) {
    test(`splits tricky content #${i} at the delimiter, whatever the chunking`, () => {
      const stream = Buffer.concat([
        content,
        Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="after"\r\n\r\nx`),
      ]);
      for (const seed of [1, 2, 3, 4, 5]) {
        for (const max of [1, 3, B.length, 64, 100_000]) {
          const scanner = new FilePartScanner(B);
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
    const scanner = new FilePartScanner(B);
    let out = 0;
    for (const chunk of split(randomBytes(10_000), 9, 500))
      out += Buffer.concat(scanner.push(chunk).data).length;
    assert.equal(scanner.done, false);
    assert.ok(scanner.pending < B.length + 4);
    assert.equal(out + scanner.pending, 10_000);
  });
});

describe('fileDataOffset and boundaryOf', () => {
  test('finds the data of the part named file after other parts, padding, a header-less part', () => {
    const head = `--${B}  \r\n\r\npreamble-ish\r\n--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${B}\r\nContent-Disposition: form-data; name="File"; filename="a \\"b\\".txt"\r\nContent-Type: text/plain\r\n\r\n`;
    const raw = Buffer.from(`${head}DATA\r\n--${B}--\r\n`);
    assert.equal(fileDataOffset(raw, B), Buffer.byteLength(head));
  });

  test('a part named file with another disposition type is skipped, as busboy skips it', () => {
    const head = `--${B}\r\nContent-Disposition: attachment; name="file"; filename="x"\r\n\r\nno\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="y"\r\n\r\n`;
    assert.equal(fileDataOffset(Buffer.from(`${head}yes`), B), Buffer.byteLength(head));
  });

  test('no part named file, or headers not complete yet: not found', () => {
    assert.equal(
      fileDataOffset(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n`), B),
      undefined,
    );
    assert.equal(
      fileDataOffset(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"\r\n`), B),
      undefined,
    );
  });

  test('boundaryOf reads quoted and bare boundaries', () => {
    assert.equal(boundaryOf(`multipart/form-data; boundary=${B}`), B);
    assert.equal(boundaryOf('multipart/form-data; charset=utf-8; BOUNDARY="a b:c"'), 'a b:c');
    assert.equal(boundaryOf('multipart/form-data'), undefined);
  });
});

describe('readPostForm, end to end over any chunking', () => {
  for (const [i, content] of TRICKY.entries()) {
    test(`file bytes come out exactly (content #${i})`, async () => {
      const body = Buffer.concat([
        Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n`),
        Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n`),
        content,
        Buffer.from(
          `\r\n--${B}\r\nContent-Disposition: form-data; name="submit"\r\n\r\nUpload\r\n--${B}--\r\n`,
        ),
      ]);
      for (const [seed, max] of [
        [1, 1],
        [2, 17],
        [3, 4096],
        [4, 1 << 20],
      ] as const) {
        const form = await readPostForm(
          Readable.from(split(body, seed, max), { objectMode: false }),
          `multipart/form-data; boundary=${B}`,
        );
        assert.deepEqual(form.fields, { key: 'k' });
        assert.ok((await buffer(form.file.stream)).equals(content), `seed ${seed} max ${max}`);
      }
    });
  }

  test('a body that ends inside the file: the file stream fails', async () => {
    const body = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nunfinished`,
    );
    const form = await readPostForm(
      Readable.from([body], { objectMode: false }),
      `multipart/form-data; boundary=${B}`,
    );
    await assert.rejects(buffer(form.file.stream), { code: 'MalformedPOSTRequest' });
  });
});
