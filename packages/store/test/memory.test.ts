/**
 * The store's memory while large bodies stream through it, with no forced collections: a PUT
 * and a POST form of 96 MiB must not pile up read buffers (node:http's parser allocates one per
 * socket read, which V8 frees only after ~64 MiB; body/takeover.ts reads large bodies into
 * reused memory instead), and nothing may turn on --expose-gc for the process that embeds it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import vm from 'node:vm';
import { presign, type Running, signFor, startStore } from './helpers.ts';
import * as post from './post-support.ts';

const MiB = 1024 * 1024;
const SIZE = 96 * MiB;
const CHUNK = Buffer.alloc(MiB, 0x61);

let r: Running;
before(async () => {
  r = await startStore({ buckets: ['mem'] });
});
after(async () => {
  await r.stop();
});

/** Sends `size` bytes of CHUNK after `head` (and `tail`), the same 1 MiB buffer over and over. */
function send(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  size: number,
  head = '',
  tail = '',
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    if (head) req.write(head);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(MiB, size - sent);
        sent += n;
        if (!req.write(n === MiB ? CHUNK : CHUNK.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    pump();
  });
}

/** The most ArrayBuffer memory above `base` seen while `work` runs, MiB. */
async function peakGrowth(work: () => Promise<unknown>): Promise<number> {
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 2);
  try {
    await work();
  } finally {
    clearInterval(t);
  }
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  return (peak - base) / MiB;
}

const put = (key: string) =>
  send(presign(r.url, 'PUT', `/mem/${key}`), 'PUT', { 'content-length': SIZE }, SIZE);

function postForm(url: string, fields: Record<string, string>): Promise<number> {
  const b = '----chutememorytest';
  const head = `${Object.entries(fields)
    .map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join('')}--${b}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n`;
  const tail = `\r\n--${b}--\r\n`;
  return send(
    url,
    'POST',
    {
      'content-type': `multipart/form-data; boundary=${b}`,
      'content-length': Buffer.byteLength(head) + SIZE + Buffer.byteLength(tail),
    },
    SIZE,
    head,
    tail,
  );
}

test('a 96 MiB PUT holds no more than a few MiB of buffers at any time', async () => {
  // The first large body allocates what is reused after (the staging ring, the MD5 helper).
  assert.equal(await put('warm'), 200);
  const growth = await peakGrowth(async () => assert.equal(await put('big'), 200));
  assert.ok(growth < 24, `ArrayBuffer memory grew by ${growth.toFixed(1)} MiB during the PUT`);
  assert.equal(r.store.backend.headObject('mem', 'big')?.size, SIZE);
});

test('a 96 MiB aws-chunked PUT (unsigned, as the AWS SDK sends) holds no more than a few MiB', async () => {
  const frames = SIZE / MiB;
  const frameHead = `${MiB.toString(16)}\r\n`;
  const s = signFor(r.url, 'PUT', '/mem/chunked', {
    headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(SIZE) },
    payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  });
  const length = frames * (frameHead.length + MiB + 2) + '0\r\n\r\n'.length;
  const sendChunked = () =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        s.url,
        { method: 'PUT', headers: { ...s.headers, 'content-length': length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      let i = 0;
      const pump = () => {
        while (i < frames) {
          i++;
          req.write(frameHead);
          req.write(CHUNK);
          if (!req.write('\r\n')) return void req.once('drain', pump);
        }
        req.end('0\r\n\r\n');
      };
      pump();
    });
  assert.equal(await sendChunked(), 200);
  const growth = await peakGrowth(async () => assert.equal(await sendChunked(), 200));
  assert.ok(growth < 24, `ArrayBuffer memory grew by ${growth.toFixed(1)} MiB during the PUT`);
  assert.equal(r.store.backend.headObject('mem', 'chunked')?.size, SIZE);
});

test('a 96 MiB POST form holds no more than a few MiB of buffers at any time', async () => {
  const p = await post.startStore(['forms']);
  try {
    const fields = post.signedFields({
      conditions: [
        ['eq', '$key', 'big'],
        ['content-length-range', 0, SIZE],
      ],
    });
    assert.equal(await postForm(`${p.url}/forms`, { key: 'big', ...fields }), 204);
    const growth = await peakGrowth(async () =>
      assert.equal(await postForm(`${p.url}/forms`, { key: 'big', ...fields }), 204),
    );
    assert.ok(growth < 24, `ArrayBuffer memory grew by ${growth.toFixed(1)} MiB during the POST`);
  } finally {
    await p.stop();
  }
});

test('no forced collections: the store never exposes gc() to the process', () => {
  // body/reclaim.ts used to set --expose-gc, which made `gc` a global of every new context.
  assert.equal(vm.runInNewContext('typeof gc'), 'undefined');
});
