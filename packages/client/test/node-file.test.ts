// openFile(): a file on disk as a Blob of any size. Tried: a sparse file just over 2 GiB (where
// fs.openAsBlob stops), bytes read past 2 GiB, slices with negative and out-of-range offsets, an
// empty slice, a directory.
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openFile } from '../src/node-file.ts';

const TWO_GIB = 2 ** 31;
let dir: string;
let path: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-node-file-'));
  path = join(dir, 'sparse.bin');
  const fh = await open(path, 'w');
  await fh.truncate(TWO_GIB + 16);
  await fh.write(Buffer.from('head'), 0, 4, 0);
  await fh.write(Buffer.from('past two gibibytes'.slice(0, 16)), 0, 16, TWO_GIB);
  await fh.close();
});
after(() => rm(dir, { recursive: true, force: true }));

test('a file over 2 GiB: its whole size, and its bytes past 2 GiB', async () => {
  const f = await openFile(path, { type: 'application/octet-stream' });
  assert.equal(f.size, TWO_GIB + 16);
  assert.equal(f.type, 'application/octet-stream');
  assert.equal(f.name, 'sparse.bin');
  assert.equal(await f.slice(TWO_GIB).text(), 'past two gibibyt');
  assert.equal(await f.slice(-16, -4).text(), 'past two gib');
  assert.equal(await f.slice(0, 4).text(), 'head');
  // A slice of a slice is relative to it.
  assert.equal(
    await f
      .slice(TWO_GIB - 4)
      .slice(4, 8)
      .text(),
    'past',
  );
});

test('slices clamp like Blob.slice: out of range, reversed, empty', async () => {
  const f = await openFile(path);
  assert.equal(f.slice(-1e12).size, f.size);
  assert.equal(f.slice(10, 5).size, 0);
  assert.equal(f.slice(f.size + 5).size, 0);
  assert.equal((await f.slice(3, 3).bytes()).byteLength, 0);
  assert.equal(f.slice(0, 4, 'text/plain').type, 'text/plain');
  const chunks: number[] = [];
  for await (const c of f.slice(0, 3 * 2 ** 20).stream()) chunks.push(c.byteLength);
  assert.equal(
    chunks.reduce((a, b) => a + b, 0),
    3 * 2 ** 20,
  );
  assert.ok(Math.max(...chunks) <= 2 ** 20, 'read in chunks of at most 1 MiB');
});

test('a directory is refused', async () => {
  await assert.rejects(openFile(dir), /not a file/);
});
