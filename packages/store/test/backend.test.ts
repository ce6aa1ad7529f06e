import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { FsBackend } from '../src/backend/fs.ts';
import { safeJoin } from '../src/backend/paths.ts';
import type { ObjectAttrs } from '../src/backend/types.ts';
import { md5hex, rawRequest, sha256hex, signFor, startStore } from './helpers.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'chute-backend-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const attrs: ObjectAttrs = { contentType: 'application/octet-stream', headers: {}, userMeta: {} };

async function putBytes(b: FsBackend, bucket: string, key: string, data: Buffer) {
  const w = await b.newBlob(bucket);
  await w.write(data);
  const { size } = await w.finish();
  return b.commitObject(bucket, key, w, { ...attrs, size, etag: md5hex(data) });
}

test('safeJoin refuses separators, dot segments and NUL', () => {
  for (const bad of ['..', '.', 'a/b', 'a\\b', 'a\u0000b', ''])
    assert.throws(() => safeJoin('/data', bad), bad);
  assert.equal(safeJoin('/data', 'buckets', 'x'), '/data/buckets/x');
});

test('concurrent PUTs to one key over HTTP: one whole body wins, the others leave nothing behind', async () => {
  const r = await startStore({ buckets: ['race'] });
  try {
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(2 * 1024 * 1024 + i, 0x30 + i));
    await Promise.all(
      bodies.map(async (body) => {
        const s = signFor(r.url, 'PUT', '/race/k', { payloadHash: sha256hex(body) });
        const res = await rawRequest(s.url, {
          method: 'PUT',
          headers: { ...s.headers, 'content-length': body.length },
          body,
        });
        assert.equal(res.status, 200, res.body);
      }),
    );
    const s = signFor(r.url, 'GET', '/race/k');
    const got = await rawRequest(s.url, { method: 'GET', headers: s.headers });
    const match = bodies.find((b) => b.length === got.body.length);
    assert.ok(match && Buffer.from(got.body).equals(match), 'the stored object is exactly one of the bodies');
    // The losers' blobs are released after their answers.
    await r.store.backend.released();
    assert.equal(readdirSync(path.join(r.dir, 'buckets', 'race', 'blobs')).length, 1);
  } finally {
    await r.stop();
  }
});

test('a client that hangs up mid-PUT leaves no object and no blob', async () => {
  const r = await startStore({ buckets: ['abort'] });
  try {
    const s = signFor(r.url, 'PUT', '/abort/k', { payloadHash: 'UNSIGNED-PAYLOAD' });
    await new Promise<void>((resolve) => {
      const q = http.request(s.url, {
        method: 'PUT',
        headers: { ...s.headers, 'content-length': 64 * 1024 * 1024 },
      });
      q.on('error', () => resolve());
      q.write(Buffer.alloc(4 * 1024 * 1024), () => setTimeout(() => q.destroy(), 100));
    });
    const blobs = path.join(r.dir, 'buckets', 'abort', 'blobs');
    for (let i = 0; i < 50 && readdirSync(blobs).length > 0; i++)
      await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(readdirSync(blobs), []);
    const g = signFor(r.url, 'GET', '/abort/k');
    assert.equal((await rawRequest(g.url, { method: 'GET', headers: g.headers })).status, 404);
  } finally {
    await r.stop();
  }
});

test('copy is a hard link: same inode, independent names', async () => {
  const root = tmp();
  const b = await FsBackend.open(root);
  await b.createBucket('cp', { acl: 'private', location: '' });
  const src = await putBytes(b, 'cp', 'src', randomBytes(1024));
  const dst = await b.copyObject(
    { bucket: 'cp', key: 'src' },
    { bucket: 'cp', key: 'dst' },
    { ...attrs, contentType: 'text/plain' },
  );
  const blob = (id: string) => statSync(path.join(root, 'buckets', 'cp', 'blobs', id));
  assert.equal(blob(src.blob).ino, blob(dst.blob).ino);
  assert.equal(dst.contentType, 'text/plain');
  await b.deleteObject('cp', 'src');
  assert.equal(blob(dst.blob).size, 1024);
});

test('start-up removes temp files, unreferenced blobs and broken records; keeps committed objects', async () => {
  const root = tmp();
  const b = await FsBackend.open(root);
  await b.createBucket('gc', { acl: 'private', location: '' });
  const kept = await putBytes(b, 'gc', 'ünï/кey', Buffer.from('v'));
  const blobs = path.join(root, 'buckets', 'gc', 'blobs');
  writeFileSync(path.join(blobs, 'a'.repeat(32)), 'orphan from a crashed PUT');
  writeFileSync(path.join(root, 'tmp', 'half-written.json'), '{');
  writeFileSync(path.join(root, 'buckets', 'gc', 'meta', '00', 'junk.json'), '{');
  const again = await FsBackend.open(root);
  assert.deepEqual(readdirSync(blobs), [kept.blob]);
  assert.deepEqual(readdirSync(path.join(root, 'tmp')), []);
  assert.deepEqual(readdirSync(path.join(root, 'buckets', 'gc', 'meta', '00')), []);
  assert.equal(again.headObject('gc', 'ünï/кey')?.etag, md5hex('v'));
});

test('overwrite and delete release the old blob', async () => {
  const root = tmp();
  const b = await FsBackend.open(root);
  await b.createBucket('ow', { acl: 'private', location: '' });
  await putBytes(b, 'ow', 'k', Buffer.from('one'));
  const two = await putBytes(b, 'ow', 'k', Buffer.from('two'));
  const blobs = path.join(root, 'buckets', 'ow', 'blobs');
  // Released after the commit, off the answer's path.
  await b.released();
  assert.deepEqual(readdirSync(blobs), [two.blob]);
  await b.deleteObject('ow', 'k');
  await b.released();
  assert.deepEqual(readdirSync(blobs), []);
});

test('listing with delimiter skips rolled-up keys after a common-prefix marker', async () => {
  const b = await FsBackend.open(tmp());
  await b.createBucket('ls', { acl: 'private', location: '' });
  for (const k of ['a/1', 'a/2', 'b', 'c/1']) await putBytes(b, 'ls', k, Buffer.from(k));
  const page = b.listObjects('ls', { prefix: '', delimiter: '/', after: 'a/', maxKeys: 10 });
  assert.deepEqual(
    page.entries.map((e) => (e.kind === 'object' ? e.meta.key : e.prefix)),
    ['b', 'c/'],
  );
});
