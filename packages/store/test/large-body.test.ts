/**
 * Bodies of STAGE_MIN_BYTES and more are staged in shared memory, written with direct I/O and
 * hashed off the main thread from that memory (backend/staged-writer.ts, body/md5.ts). The ETag, Content-MD5 checks, flexible checksums, POST forms and an
 * abandoned upload must behave exactly as on the inline path.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { encodeUnsignedChunks } from '@chute/sigv4';
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

test('large aws-chunked PUT (STREAMING-UNSIGNED-PAYLOAD-TRAILER) with a CRC32 trailer: ETag and checksum right', async () => {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(crc32(body));
  // Chunks of odd sizes, so chunk headers straddle socket reads.
  const wire = encodeUnsignedChunks(body, {
    chunkSize: 70_001,
    trailers: { 'x-amz-checksum-crc32': v.toString('base64') },
  });
  // An unsigned aws-chunked PUT of `body` with a CRC32 trailer: `bytes` is its wire form.
  const putChunked = (path: string, bytes: Buffer) => {
    const s = signFor(r.url, 'PUT', path, {
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(body.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    return rawRequest(s.url, {
      method: 'PUT',
      headers: { ...s.headers, 'content-length': bytes.length },
      body: bytes,
    });
  };
  const res = await putChunked('/big/chunked', wire);
  assert.equal(res.status, 200, res.body);
  assert.equal(res.headers.etag, `"${md5hex(body)}"`);
  assert.equal(res.headers['x-amz-checksum-crc32'], v.toString('base64'));
  // A wrong trailer is still caught.
  const bad = encodeUnsignedChunks(body, { trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
  const res2 = await putChunked('/big/chunked-bad', bad);
  assert.equal(res2.status, 400, res2.body);
  assert.match(res2.body, /<Code>BadDigest<\/Code>/);
});

test('a large PUT and a GET pipelined on one connection: both answered, in order', async () => {
  // The GET reads another object: node:http runs pipelined requests at once (only the answers
  // are in order), so it must not depend on the PUT before it.
  assert.equal((await putRaw('pipe-src')).status, 200);
  const put = new URL(presign(r.url, 'PUT', '/big/piped'));
  const get = new URL(presign(r.url, 'GET', '/big/pipe-src'));
  const wire = Buffer.concat([
    Buffer.from(
      `PUT ${put.pathname}${put.search} HTTP/1.1\r\nHost: ${put.host}\r\nContent-Length: ${body.length}\r\n\r\n`,
    ),
    body,
    Buffer.from(
      `GET ${get.pathname}${get.search} HTTP/1.1\r\nHost: ${get.host}\r\nConnection: close\r\n\r\n`,
    ),
  ]);
  const text = await new Promise<Buffer>((resolve, reject) => {
    const c = net.connect(Number(put.port), put.hostname);
    const got: Buffer[] = [];
    c.on('data', (d) => got.push(d));
    c.on('end', () => resolve(Buffer.concat(got)));
    c.on('error', reject);
    // Not end(): node:http ends its side when the client's does (httpAllowHalfOpen is off).
    c.write(wire);
  });
  const first = text.indexOf('HTTP/1.1 200');
  const second = text.indexOf('HTTP/1.1 200', first + 1);
  assert.ok(first === 0 && second > 0, text.subarray(0, 400).toString());
  assert.ok(
    text
      .subarray(0, second)
      .toString()
      .includes(`"${md5hex(body)}"`),
  );
  // The GET's body is `pipe-src`, which holds the same bytes.
  assert.ok(text.subarray(text.length - body.length).equals(body));
});
