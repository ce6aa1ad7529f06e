/**
 * Bodies of STAGE_MIN_BYTES and more are staged in shared memory, written with direct I/O and
 * hashed off the main thread from that memory (backend/staged-writer.ts, body/md5.ts). The ETag, Content-MD5 checks, flexible checksums, POST forms and an
 * abandoned upload must behave exactly as on the inline path.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { STAGE_MIN_BYTES } from '../src/backend/staged-writer.ts';
import { md5b64, md5hex, presign, type Running, rawRequest, signFor, startStore } from './helpers.ts';
import * as post from './post-support.ts';

// Not a multiple of 1 MiB, so the last write is a partial batch.
const body = randomBytes(STAGE_MIN_BYTES + 3 * 1024 * 1024 + 12345);
let r: Running;
before(async () => {
  r = await startStore({ buckets: ['big'] });
});
after(async () => {
  await r.stop();
});

const putRaw = (key: string, headers: Record<string, string> = {}) =>
  rawRequest(presign(r.url, 'PUT', `/big/${key}`, { headers }), {
    method: 'PUT',
    headers: { 'content-length': body.length, ...headers },
    body,
  });

test('large PUT: the ETag is the MD5 of the body, and GET returns the same bytes', async () => {
  const res = await putRaw('a', { 'content-md5': md5b64(body) });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.headers.etag, `"${md5hex(body)}"`);
  const got = await fetch(presign(r.url, 'GET', '/big/a'));
  assert.equal(got.status, 200);
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(body));
});

test('large PUT with the Content-MD5 of other bytes → 400 BadDigest, no object, no blob left', async () => {
  const res = await putRaw('bad', { 'content-md5': md5b64(Buffer.from('other')) });
  assert.equal(res.status, 400);
  assert.match(res.body, /<Code>BadDigest<\/Code>/);
  const head = await rawRequest(presign(r.url, 'HEAD', '/big/bad'), { method: 'HEAD' });
  assert.equal(head.status, 404);
});

test('large PUT with x-amz-checksum-crc32 is verified and stored', async () => {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(crc32(body));
  const res = await putRaw('crc', { 'x-amz-checksum-crc32': v.toString('base64') });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.headers['x-amz-checksum-crc32'], v.toString('base64'));
  assert.equal(res.headers.etag, `"${md5hex(body)}"`);
});

test('several large PUTs at once each get their own MD5', async () => {
  const bodies = [0, 1, 2].map((i) => Buffer.alloc(STAGE_MIN_BYTES + i * 4097, 0x41 + i));
  const results = await Promise.all(
    bodies.map((b, i) =>
      rawRequest(presign(r.url, 'PUT', `/big/many-${i}`), {
        method: 'PUT',
        headers: { 'content-length': b.length },
        body: b,
      }),
    ),
  );
  results.forEach((res, i) => {
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers.etag, `"${md5hex(bodies[i]!)}"`);
  });
});

test('a client that hangs up in the middle of a large PUT leaves no blob, and the next PUT works', async () => {
  const s = signFor(r.url, 'PUT', '/big/gone', { payloadHash: 'UNSIGNED-PAYLOAD' });
  await new Promise<void>((resolve) => {
    const q = http.request(s.url, {
      method: 'PUT',
      headers: { ...s.headers, 'content-length': body.length },
    });
    q.on('error', () => resolve());
    q.write(body.subarray(0, STAGE_MIN_BYTES + 1024 * 1024), () => setTimeout(() => q.destroy(), 100));
  });
  const blobs = path.join(r.dir, 'buckets', 'big', 'blobs');
  const known = new Set(
    ['a', 'crc', 'many-0', 'many-1', 'many-2'].map((k) => r.store.backend.headObject('big', k)?.blob),
  );
  const strays = () => readdirSync(blobs).filter((f) => !known.has(f));
  for (let i = 0; i < 100 && strays().length > 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(strays(), []);
  const res = await putRaw('after');
  assert.equal(res.headers.etag, `"${md5hex(body)}"`);
});

test('large POST form: the ETag is the MD5 of the file part', async () => {
  const p = await post.startStore(['forms']);
  try {
    const fields = post.signedFields({
      conditions: [
        ['eq', '$key', 'big'],
        ['content-length-range', 0, body.length],
      ],
    });
    const res = await post.postForm(`${p.url}/forms`, { key: 'big', ...fields }, { content: body });
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5hex(body)}"`);
  } finally {
    await p.stop();
  }
});

test('large POST form over content-length-range → 400 EntityTooLarge', async () => {
  const p = await post.startStore(['forms']);
  try {
    const fields = post.signedFields({
      conditions: [
        ['eq', '$key', 'big'],
        ['content-length-range', 0, body.length - 1],
      ],
    });
    const res = await post.postForm(`${p.url}/forms`, { key: 'big', ...fields }, { content: body });
    assert.equal(res.status, 400);
    assert.equal((await post.s3Error(res))['Code'], 'EntityTooLarge');
  } finally {
    await p.stop();
  }
});
