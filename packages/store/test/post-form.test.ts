import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { S3Error } from '@chute/errors';
import { readPostForm } from '../src/post/form.ts';

// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally.
const KEY_WITH_FILENAME = 'uploads/${filename}';
const BOUNDARY = '----chuteTestBoundary7MA4YWxkTrZu0gW';
const CT = `multipart/form-data; boundary=${BOUNDARY}`;

type Part = { name: string; value: string | Buffer; filename?: string; type?: string; disposition?: string };

/** A multipart body built by hand, byte for byte, for the cases FormData cannot produce. */
function body(parts: Part[], chunkSize = 0): Readable {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: ${p.disposition ?? 'form-data'}; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  const all = Buffer.concat(chunks);
  if (chunkSize <= 0) return Readable.from([all], { objectMode: false });
  const pieces: Buffer[] = [];
  for (let i = 0; i < all.length; i += chunkSize) pieces.push(all.subarray(i, i + chunkSize));
  return Readable.from(pieces, { objectMode: false });
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; details: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return { code: e.code, details: { ...e.details } };
  }
  assert.fail('expected an S3Error');
}

describe('readPostForm', () => {
  test('collects the fields before file and streams the file', async () => {
    const form = await readPostForm(
      body([
        { name: 'key', value: KEY_WITH_FILENAME },
        { name: 'Content-Type', value: 'image/png' },
        { name: 'file', value: 'PNGDATA', filename: 'C:\\pics\\cat.png', type: 'image/png' },
      ]),
      CT,
    );
    assert.deepEqual(form.fields, { key: KEY_WITH_FILENAME, 'Content-Type': 'image/png' });
    assert.equal(form.file.filename, 'C:\\pics\\cat.png');
    assert.equal(form.file.partContentType, 'image/png');
    assert.equal(await text(form.file.stream), 'PNGDATA');
  });

  test('fields after file are ignored, as S3 does', async () => {
    const form = await readPostForm(
      body([
        { name: 'key', value: 'k' },
        { name: 'file', value: 'x', filename: 'a.txt' },
        { name: 'x-amz-meta-late', value: 'ignored' },
        { name: 'submit', value: 'Upload' },
      ]),
      CT,
    );
    assert.equal(await text(form.file.stream), 'x');
    assert.deepEqual(form.fields, { key: 'k' });
  });

  test('a part with a filename that is not named file is a field', async () => {
    const form = await readPostForm(
      body([
        { name: 'key', value: 'k', filename: 'key' },
        { name: 'policy', value: 'eyJ9', filename: 'policy' },
        { name: 'file', value: 'data', filename: 'file' },
      ]),
      CT,
    );
    assert.deepEqual(form.fields, { key: 'k', policy: 'eyJ9' });
    assert.equal(await text(form.file.stream), 'data');
  });

  test('a file part without a filename (a textarea) is the file, its filename undefined', async () => {
    const form = await readPostForm(
      body([
        { name: 'key', value: 'k' },
        { name: 'file', value: 'typed text' },
      ]),
      CT,
    );
    assert.equal(form.file.filename, undefined);
    assert.equal(await text(form.file.stream), 'typed text');
  });

  test('a field sent twice has its values joined by a comma', async () => {
    const form = await readPostForm(
      body([
        { name: 'x-amz-meta-tag', value: 'Ninja' },
        { name: 'x-amz-meta-tag', value: 'Stallman' },
        { name: 'file', value: '', filename: 'e' },
      ]),
      CT,
    );
    assert.equal(form.fields['x-amz-meta-tag'], 'Ninja,Stallman');
  });

  test('parses a body that arrives a few bytes at a time', async () => {
    const form = await readPostForm(
      body(
        [
          { name: 'key', value: 'k' },
          { name: 'file', value: Buffer.alloc(100_000, 7), filename: 'big.bin' },
        ],
        7,
      ),
      CT,
    );
    assert.equal((await text(form.file.stream)).length, 100_000);
  });

  test('fields before the file above 20 KB: MaxPostPreDataLengthExceeded', async () => {
    const err = await codeOf(
      readPostForm(
        body([
          { name: 'x-ignore-pad', value: 'p'.repeat(21 * 1024) },
          { name: 'file', value: 'x', filename: 'a' },
        ]),
        CT,
      ),
    );
    assert.deepEqual(err, {
      code: 'MaxPostPreDataLengthExceeded',
      details: { MaxPostPreDataLengthBytes: '20480' },
    });
  });

  test('a large part named otherwise counts as pre-file data even with a filename', async () => {
    const err = await codeOf(
      readPostForm(
        body([
          { name: 'upload', value: Buffer.alloc(30 * 1024), filename: 'photo.jpg' },
          { name: 'file', value: 'x', filename: 'a' },
        ]),
        CT,
      ),
    );
    assert.equal(err.code, 'MaxPostPreDataLengthExceeded');
  });

  test('no file: InvalidArgument "POST requires exactly one file upload per request."', async () => {
    try {
      await readPostForm(body([{ name: 'key', value: 'k' }]), CT);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof S3Error);
      assert.equal(e.code, 'InvalidArgument');
      assert.equal(e.message, 'POST requires exactly one file upload per request.');
      assert.deepEqual(e.details, { ArgumentName: 'file', ArgumentValue: '0' });
    }
  });

  test('not multipart/form-data: 412 PreconditionFailed', async () => {
    const err = await codeOf(readPostForm(Readable.from(['key=k']), 'application/x-www-form-urlencoded'));
    assert.deepEqual(err, {
      code: 'PreconditionFailed',
      details: { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' },
    });
  });

  test('malformed bodies: MalformedPOSTRequest', async () => {
    assert.equal(
      (await codeOf(readPostForm(Readable.from(['x']), 'multipart/form-data'))).code,
      'MalformedPOSTRequest',
    );
    const truncated = Readable.from([
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk`),
    ]);
    assert.equal((await codeOf(readPostForm(truncated, CT))).code, 'MalformedPOSTRequest');
  });
});
