// readPostForm is the one reader of a POST form's bytes: the fields the policy is checked on and
// the file that is stored come from the same parse. These tests hold it to that on adversarial
// bodies, over every chunking: the four bodies on which the old raw-byte fast path (a second
// scanner beside busboy) stored other bytes than busboy read, then a property over generated
// forms (duplicate fields, boundaries inside values and file, CRLF/LF, folded headers, padding,
// long headers, preamble/epilogue, quoted/unquoted boundary, missing final boundary).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { S3Error } from '@chute/errors';
import fc from 'fast-check';
import { consume } from '../src/body/consume.ts';
import { type ReadFormOptions, readPostForm } from '../src/post/form.ts';

type Outcome =
  | { ok: true; fields: Record<string, string>; filename: string | undefined; file: string }
  | { ok: false; at: 'form' | 'file'; code: string };

/**
 * Everything readPostForm decides about `body` fed in `chunks`, the file read to its end. A
 * reading that never settles (a request the store would hold open forever) fails the test.
 */
async function outcome(chunks: Buffer[], contentType: string, opts: ReadFormOptions = {}): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('readPostForm never settled')), 2000);
  });
  try {
    return await Promise.race([read(chunks, contentType, opts), hang]);
  } finally {
    clearTimeout(timer);
  }
}

async function read(chunks: Buffer[], contentType: string, opts: ReadFormOptions): Promise<Outcome> {
  let form: Awaited<ReturnType<typeof readPostForm>>;
  try {
    form = await readPostForm(Readable.from(chunks, { objectMode: false }), contentType, opts);
  } catch (e) {
    assert.ok(e instanceof S3Error, `not an S3Error: ${String(e)}`);
    return { ok: false, at: 'form', code: e.code };
  }
  try {
    // Read as the POST handler reads it (receive.ts), the file handed over after an await.
    await new Promise((r) => setImmediate(r));
    const parts: Buffer[] = [];
    await consume(form.file.stream, (b) => {
      parts.push(b);
      return undefined;
    });
    const file = Buffer.concat(parts);
    return { ok: true, fields: form.fields, filename: form.file.filename, file: file.toString('latin1') };
  } catch (e) {
    // busboy's own errors reach the stream as plain Errors; the POST handler answers them
    // MalformedPOSTRequest (receive.ts).
    return { ok: false, at: 'file', code: e instanceof S3Error ? e.code : 'MalformedPOSTRequest' };
  }
}

/** `body` cut at the given sizes (cycled), so a delimiter or header can straddle any two chunks. */
function cut(body: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0, n = 0; i < body.length; n++) {
    const size = sizes.length === 0 ? body.length : sizes[n % sizes.length]!;
    out.push(body.subarray(i, i + size));
    i += size;
  }
  return out;
}

const B = 'BOUNDARY0123';
const CT = `multipart/form-data; boundary=${B}`;

describe('readPostForm stores the part it read the fields around (former fast-path disagreements)', () => {
  const cases: Array<{ name: string; body: string; fields: Record<string, string>; file: string }> = [
    {
      // The scanner's own disposition regex found name=file inside the quoted filename.
      name: '`name=file` inside a quoted filename of another part',
      body: `--${B}\r\nContent-Disposition: form-data; filename="x;name=file;"; name=other\r\n\r\nSMUGGLED\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nREAL\r\n--${B}--\r\n`,
      fields: { other: 'SMUGGLED' },
      file: 'REAL',
    },
    {
      // RFC 2046 transport padding: the scanner accepted it, busboy does not (it skips the part).
      name: 'whitespace after a delimiter',
      body: `--${B} \r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nPADDED\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nREAL\r\n--${B}--\r\n`,
      fields: {},
      file: 'REAL',
    },
    {
      // A folded Content-Disposition: the scanner skipped the part and stored a later one.
      name: 'a folded Content-Disposition header',
      body: `--${B}\r\nContent-Disposition: form-data;\r\n name="file"; filename="f"\r\n\r\nREAL\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="g"\r\n\r\nLATER\r\n--${B}--\r\n`,
      fields: {},
      file: 'REAL',
    },
    {
      // A delimiter right after the file's header block, without the CRLF that belongs to it.
      name: 'a delimiter with no CRLF right after the header block',
      body: `--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n--${B}\r\nContent-Disposition: form-data; name="x"\r\n\r\nREAL\r\n--${B}--\r\n`,
      fields: {},
      file: 'Content-Disposition: form-data; name="x"\r\n\r\nREAL',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const body = Buffer.from(c.body);
      for (const sizes of [[], [1], [3, 7], [B.length + 3], [64]]) {
        const got = await outcome(cut(body, sizes), CT);
        assert.ok(got.ok, `chunks ${sizes}: ${JSON.stringify(got)}`);
        assert.deepEqual(got.fields, c.fields, `chunks ${sizes}`);
        assert.equal(got.file, c.file, `chunks ${sizes}`);
      }
    });
  }
});

describe('readPostForm: parts the property found', () => {
  // busboy names a part without a name parameter `undefined`; reading its name threw inside
  // busboy's write, out of the request's 'data' listener: one unauthenticated POST ended the
  // whole store process.
  for (const [what, disposition] of [
    ['a field', 'form-data'],
    ['a part with a filename', 'form-data; filename="x"'],
  ] as const) {
    test(`${what} without a name: 400 MalformedPOSTRequest, not a crash`, async () => {
      const body = Buffer.from(
        `--${B}\r\nContent-Disposition: ${disposition}\r\n\r\nv\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nREAL\r\n--${B}--\r\n`,
      );
      for (const sizes of [[], [1], [5]]) {
        assert.deepEqual(await outcome(cut(body, sizes), CT), {
          ok: false,
          at: 'form',
          code: 'MalformedPOSTRequest',
        });
      }
    });
  }

  test('a field named __proto__ is a field (the policy must cover it), not a prototype', async () => {
    const body = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\nv\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nREAL\r\n--${B}--\r\n`,
    );
    const got = await outcome([body], CT);
    assert.ok(got.ok);
    assert.deepEqual(Object.entries(got.fields), [['__proto__', 'v']]);
  });

  test('parts after the close delimiter are epilogue, in the same chunk or not', async () => {
    // busboy 1.6 parsed the rest of the chunk holding "--boundary--", not later chunks.
    const body = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${B}--\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nLATE\r\n--${B}--\r\n`,
    );
    for (const sizes of [[], [1], [40]]) {
      assert.deepEqual(await outcome(cut(body, sizes), CT), {
        ok: false,
        at: 'form',
        code: 'InvalidArgument',
      });
    }
  });
});

describe('readPostForm: busboy quirks the property found', () => {
  test('a file whose bytes begin with "--boundary--": refused, not held open forever', async () => {
    // busboy takes the "--" for a close delimiter while the file is open and then waits for the
    // file's end, which never comes.
    const body = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n--${B}\r\n--${B.slice(0, -1)}\r\n`,
    );
    for (const sizes of [[], [1], [9]]) {
      const got = await outcome(cut(body, sizes), CT);
      assert.ok(!got.ok && got.code === 'MalformedPOSTRequest', JSON.stringify(got));
    }
  });

  test('a delimiter line with padding reads the same in any chunking', async () => {
    // busboy 1.6 alone: a textarea named file read as "" whole, not at all byte by byte.
    const b = 'aHI';
    const body = Buffer.from(
      `--${b}\t\r\nContent-Disposition: form-data; name="file"\r\n\r\n--${b}--\r\n--${b}\t\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n--${b}\r\nContent-Disposition: form-data; name="file"\r\n\r\n\r\n--${b}--\r\n`,
    );
    const ct = `multipart/form-data; boundary=${b}`;
    const whole = await outcome([body], ct);
    for (const sizes of [[1], [2], [3], [7], [50]])
      assert.deepEqual(await outcome(cut(body, sizes), ct), whole);
  });
});

describe('readPostForm: file bytes come out exactly, over any chunking', () => {
  const BB = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
  /** File contents that look like a delimiter without being one. */
  const TRICKY = [
    Buffer.alloc(0),
    Buffer.from('plain'),
    // No CRLF before it. (Right after the header block it would be a delimiter: the block's
    // last CRLF is the delimiter's. The old fast path read it as content; busboy does not.)
    Buffer.from(`x--${BB}`),
    Buffer.from(`\r\n--${BB.slice(0, -1)}`), // one byte short
    Buffer.from(`x\r\n--${BB.slice(0, 10)}\r\n--${BB.slice(0, 20)}y`),
    Buffer.from('\r\n\r\n\r\n--\r\n--'),
    Buffer.concat([randomBytes(70_000), Buffer.from(`\r\n--${BB.slice(0, -2)}`), randomBytes(5)]),
  ];
  for (const [i, content] of TRICKY.entries()) {
    test(`content #${i}`, async () => {
      const body = Buffer.concat([
        Buffer.from(`--${BB}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n`),
        Buffer.from(`--${BB}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n`),
        content,
        Buffer.from(
          `\r\n--${BB}\r\nContent-Disposition: form-data; name="submit"\r\n\r\nUpload\r\n--${BB}--\r\n`,
        ),
      ]);
      for (const sizes of [[1], [17], [4096, 5], [1 << 20]]) {
        const got = await outcome(cut(body, sizes), `multipart/form-data; boundary=${BB}`);
        assert.ok(got.ok, `chunks ${sizes}: ${JSON.stringify(got)}`);
        assert.deepEqual(got.fields, { key: 'k' });
        assert.equal(got.file, content.toString('latin1'), `chunks ${sizes}`);
      }
    });
  }

  test('a body that ends inside the file: the file stream fails', async () => {
    const body = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nunfinished`,
    );
    assert.deepEqual(await outcome([body], CT), { ok: false, at: 'file', code: 'MalformedPOSTRequest' });
  });
});

// ---- the property ------------------------------------------------------------------------------

/** RFC 2046 bchars; a space may not end a boundary. */
const BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";

interface Form {
  boundary: string;
  quoteBoundary: boolean;
  preamble: string;
  /** Parts before the file; `filename` makes busboy read one as a stream, still a field. */
  /** A name of undefined sends no name parameter (RFC 7578 requires one). */
  fields: Array<{ name: string | undefined; value: string; filename?: string }>;
  fileName: string;
  /** undefined: no filename parameter (a textarea named file: text, not bytes). */
  filename: string | undefined;
  content: string;
  /** Parts after the file, which S3 ignores. */
  epilogueFields: Array<{ name: string; value: string }>;
  epilogue: string;
  // Malformations: each makes the expected outcome "whatever one chunk gives", not the model.
  lf: boolean;
  fold: boolean;
  padding: string;
  longHeader: number;
  finalBoundary: boolean;
}

const PLAIN: Form = {
  boundary: B,
  quoteBoundary: false,
  preamble: '',
  fields: [],
  fileName: 'file',
  filename: 'f',
  content: '',
  epilogueFields: [],
  epilogue: '',
  lf: false,
  fold: false,
  padding: '',
  longHeader: 0,
  finalBoundary: true,
};

function arbForm(): fc.Arbitrary<Form> {
  const boundary = fc
    .string({ unit: fc.constantFrom(...BCHARS), minLength: 1, maxLength: 70 })
    .filter((b) => !b.endsWith(' '));
  return boundary.chain((b) => {
    // Values and contents built from pieces that look like the structure around them.
    const piece = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.constantFrom(
        '\r\n',
        '\r',
        '\n',
        '--',
        `--${b}`,
        `\r\n--${b.slice(0, -1)}`,
        `\r\n-${b}`,
        `--${b}--`,
        `\n--${b}`,
        '\r\n\r\n',
        'Content-Disposition: form-data; name="file"; filename="x"',
        `\r\n--${b}\r\nContent-Disposition: form-data; name="file"\r\n\r\n`,
      ),
    );
    const text = fc.array(piece, { maxLength: 6 }).map((a) => a.join(''));
    const name = fc.oneof(
      fc.constantFrom(
        'key',
        'Content-Type',
        'x-amz-meta-a',
        'success_action_status',
        'policy',
        'a b',
        '__proto__',
      ),
      fc.string({ unit: fc.constantFrom(...'abcXYZ-_.09'), minLength: 1, maxLength: 8 }),
    );
    const filename = fc.oneof(
      fc.constantFrom('x;name=file;', 'name="file"', 'a.png', 'C:\\dir\\f', ''),
      fc.string({ unit: fc.constantFrom(...'ab;=. -/'), maxLength: 10 }),
    );
    return fc.record({
      boundary: fc.constant(b),
      quoteBoundary: /^[0-9A-Za-z'+_\-.]+$/.test(b) ? fc.boolean() : fc.constant(true),
      preamble: fc.oneof(fc.constant(''), text),
      fields: fc.array(
        fc.record(
          { name: fc.option(name, { nil: undefined, freq: 15 }), value: text, filename },
          { requiredKeys: ['name', 'value'] },
        ),
        { maxLength: 5 },
      ),
      fileName: fc.constantFrom('file', 'File', 'FILE'),
      filename: fc.option(filename, { nil: undefined }),
      content: text,
      epilogueFields: fc.array(fc.record({ name, value: text }), { maxLength: 2 }),
      epilogue: fc.oneof(fc.constant(''), text),
      lf: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      fold: fc.boolean(),
      padding: fc.constantFrom('', '', '', ' ', '\t'),
      longHeader: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000 })),
      finalBoundary: fc.boolean(),
    });
  });
}

/** Whether each piece sits between delimiters as intended (no delimiter inside any of them). */
function wellFormed(f: Form): boolean {
  const needle = `\r\n--${f.boundary}`;
  // Each text is preceded by a CRLF (busboy starts with one; a header block ends with one), so a
  // value that begins with `--boundary` would be a delimiter too.
  const texts = [`\r\n${f.preamble}`, ...f.fields.map((p) => `\r\n${p.value}`), `\r\n${f.content}`];
  if (texts.some((t) => t.includes(needle))) return false;
  // Names and filenames are quoted-strings: no quote, backslash, CR or LF; text must be UTF-8
  // clean where busboy decodes it (fields, a textarea file).
  if (
    [...f.fields.flatMap((p) => [p.name ?? '', p.filename ?? '']), f.filename ?? ''].some((t) =>
      /["\\\r\n]/.test(t),
    )
  )
    return false;
  return !f.lf && !f.fold && f.padding === '' && f.longHeader < 16_000;
}

function encode(f: Form): { body: Buffer; contentType: string } {
  const eol = f.lf ? '\n' : '\r\n';
  const dash = `--${f.boundary}`;
  const part = (disposition: string, value: string, extra = '') =>
    `${dash}${f.padding}${eol}Content-Disposition: ${disposition}${eol}${extra}${eol}${value}${eol}`;
  let s = f.preamble === '' ? '' : `${f.preamble}${eol}`;
  for (const p of f.fields) {
    const fn = p.filename === undefined ? '' : `; filename="${p.filename}"`;
    s += part(`form-data${p.name === undefined ? '' : `; name="${p.name}"`}${fn}`, p.value);
  }
  const fn = f.filename === undefined ? '' : `;${f.fold ? `${eol} ` : ' '}filename="${f.filename}"`;
  const long = f.longHeader > 0 ? `X-Long: ${'a'.repeat(f.longHeader)}${eol}` : '';
  s += part(`form-data; name="${f.fileName}"${fn}`, f.content, long);
  for (const p of f.epilogueFields) s += part(`form-data; name="${p.name}"`, p.value);
  if (f.finalBoundary) s += `${dash}--${eol}${f.epilogue}`;
  const boundaryParam = f.quoteBoundary ? `"${f.boundary}"` : f.boundary;
  // Field text is UTF-8 on the wire (a browser's encoding); the file's "binary" pieces too.
  return { body: Buffer.from(s, 'utf8'), contentType: `multipart/form-data; boundary=${boundaryParam}` };
}

/** What a well-formed form must read as ('malformed': refused, before or while reading the file). */
function expected(f: Form): Outcome | 'malformed' {
  if (f.fields.some((p) => p.name === undefined)) return 'malformed';
  const fields = new Map<string, string>();
  for (const p of f.fields) {
    const had = fields.get(p.name!);
    fields.set(p.name!, had === undefined ? p.value : `${had},${p.value}`);
  }
  // The content goes out as UTF-8; the file reads back as bytes (compared as latin1 text).
  const file = Buffer.from(f.content, 'utf8').toString('latin1');
  if (!f.finalBoundary && f.epilogueFields.length === 0) {
    // The file's delimiter never comes: the body ends inside it.
    return 'malformed';
  }
  // An empty filename (a file input left empty) is no filename to busboy: the part is text.
  return { ok: true, fields: Object.fromEntries(fields), filename: f.filename || undefined, file };
}

describe('readPostForm property: one reading of the body, whatever its shape and chunking', () => {
  test('well-formed forms read as built; every form reads the same over any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbForm(),
        fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 4 }),
        // Small blocks, so busboy hands the file over early in some readings and never in others.
        fc.integer({ min: 1, max: 64 }),
        async (form, sizes, feedBlockBytes) => {
          const { body, contentType } = encode(form);
          // busboy reads a malformed form as a function of the bytes and the block size.
          const whole = await outcome([body], contentType, { feedBlockBytes });
          // At most ~300 chunks, so a 20 KB header does not cost 20,000 writes.
          const floor = Math.ceil(body.length / 300);
          const chunked = await outcome(
            cut(
              body,
              sizes.map((n) => Math.max(n, floor)),
            ),
            contentType,
            { feedBlockBytes },
          );
          assert.deepEqual(chunked, whole, 'chunking changed the outcome');
          if (whole.ok) {
            // Whatever the shape, the stored bytes never span a delimiter.
            assert.ok(!Buffer.from(whole.file, 'latin1').includes(`\r\n--${form.boundary}`));
          }
          if (wellFormed(form)) {
            const want = expected(form);
            if (want === 'malformed') assert.ok(!whole.ok && whole.code === 'MalformedPOSTRequest');
            else assert.deepEqual(whole, want);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('readPostForm: busboy fed fixed blocks until the file', () => {
  // Two forms the property shrank to: busboy alone read the part after a padded or glued
  // delimiter line differently when a chunk ended inside it.
  const forms: Array<[Form, number[]]> = [
    [
      {
        ...PLAIN,
        boundary: "fJ9 0-'wd",
        quoteBoundary: true,
        filename: 'x;name=file;',
        content: `--fJ9 0-'wd\r\nContent-Disposition: form-data; name="file"; filename="x"`,
        epilogueFields: [{ name: 'a', value: '\r\n' }],
        padding: ' ',
      },
      [1],
    ],
    [
      {
        ...PLAIN,
        boundary: 'fm.0R',
        filename: 'a',
        content: '--fm.0R\r\n\r\n\u0000\u{10000}     ',
        epilogueFields: [{ name: 'a', value: '' }],
        longHeader: 10802,
        finalBoundary: false,
      },
      [44, 78],
    ],
  ];
  for (const [i, [form, sizes]] of forms.entries()) {
    test(`form #${i} reads the same whole and in chunks of ${sizes}`, async () => {
      const { body, contentType } = encode(form);
      assert.deepEqual(await outcome(cut(body, sizes), contentType), await outcome([body], contentType));
    });
  }
});
