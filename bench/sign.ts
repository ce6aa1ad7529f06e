/**
 * Signing throughput, ours next to the AWS SDK v3 in the same process and run:
 *   presign-PUT: presignUrl vs getSignedUrl (S3Client, requestChecksumCalculation WHEN_REQUIRED),
 *   POST policy: signPostPolicy vs createPresignedPost,
 *   raw createHmac('sha256', key).update(str).digest() as the floor of one HMAC,
 *   aws-chunked decode (signed chunks) vs raw SHA-256 of the same bytes.
 * Every op signs a different key, so each result is a fresh, complete signature.
 * Run: npx node bench/sign.ts (or npm run bench:sign). Bounded: ~1.5 s per row.
 */
import { createHash, createHmac } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  ChunkedDecoder,
  encodeSignedChunks,
  type PostCondition,
  presignUrl,
  signPostPolicy,
  signRequest,
  verifyRequest,
} from '@chute/sigv4';

const BUDGET_MS = Number(process.env['BENCH_MS'] ?? 1500);
const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const region = 'us-east-1';
const endpoint = 'http://127.0.0.1:9000';
const client = new S3Client({
  region,
  endpoint,
  forcePathStyle: true,
  credentials,
  requestChecksumCalculation: 'WHEN_REQUIRED',
});

let sink = 0;

function measureSync(fn: (i: number) => unknown): number {
  for (let i = 0; i < 2000; i++) fn(i); // warm up
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < BUDGET_MS) {
    for (let j = 0; j < 500; j++) {
      const r = fn(ops++);
      sink += typeof r === 'string' ? r.length : 1;
    }
    elapsed = performance.now() - start;
  }
  return (ops / elapsed) * 1000;
}

async function measureAsync(fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn(i);
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < BUDGET_MS) {
    for (let j = 0; j < 20; j++) {
      const r = await fn(ops++);
      sink += typeof r === 'string' ? r.length : 1;
    }
    elapsed = performance.now() - start;
  }
  return (ops / elapsed) * 1000;
}

const headersFor = (i: number) => ({
  'content-type': 'image/png',
  'content-length': String(1000 + i),
  'x-amz-meta-upload-id': `up-${i}`,
  'x-amz-meta-user-id': 'user-42',
});

const oursPresign = (i: number) =>
  presignUrl({
    method: 'PUT',
    endpoint,
    path: `/chute-uploads/incoming/user-42/${i}-0b8f3c1e.png`,
    headers: headersFor(i),
    credentials,
    region,
    expiresIn: 900,
  });

const sdkPresign = (i: number) =>
  getSignedUrl(
    client,
    new PutObjectCommand({
      Bucket: 'chute-uploads',
      Key: `incoming/user-42/${i}-0b8f3c1e.png`,
      ContentType: 'image/png',
      ContentLength: 1000 + i,
      Metadata: { 'upload-id': `up-${i}`, 'user-id': 'user-42' },
    }),
    {
      expiresIn: 900,
      signableHeaders: new Set(['content-type']),
      unhoistableHeaders: new Set(['x-amz-meta-upload-id', 'x-amz-meta-user-id']),
    },
  );

const rawKey = Buffer.alloc(32, 7);
const rawString = `AWS4-HMAC-SHA256\n20260102T030405Z\n20260102/us-east-1/s3/aws4_request\n${'ab'.repeat(32)}`;
const rawHmac = (i: number) =>
  createHmac('sha256', rawKey)
    .update(i % 2 ? rawString : `${rawString}x`)
    .digest();

const postConditions = (): PostCondition[] => [
  ['content-length-range', 1, 10485760],
  ['starts-with', '$Content-Type', 'image/'],
];
const postInput = (i: number) => ({
  bucket: 'chute-uploads',
  key: `incoming/user-42/${i}-0b8f3c1e`,
  conditions: postConditions(),
  fields: { 'Content-Type': 'image/png', 'x-amz-meta-upload-id': `up-${i}`, success_action_status: '201' },
});
const oursPost = (i: number) => {
  const p = postInput(i);
  return signPostPolicy({
    endpoint,
    ...p,
    conditions: [...p.conditions],
    credentials,
    region,
    expiresIn: 900,
  }).fields['X-Amz-Signature'];
};
const sdkPost = async (i: number) => {
  const p = postInput(i);
  const r = await createPresignedPost(client, {
    Bucket: p.bucket,
    Key: p.key,
    Conditions: p.conditions as never,
    Fields: p.fields,
    Expires: 900,
  });
  return r.fields['X-Amz-Signature'];
};

// Honesty checks before timing: ours equals the SDK on the benchmarked shapes at a fixed time,
// and what ours signs verifies.
{
  const now = Date.now();
  const ours = presignUrl({
    method: 'PUT',
    endpoint,
    path: '/chute-uploads/incoming/user-42/1-0b8f3c1e.png',
    headers: headersFor(1),
    query: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'x-id': 'PutObject' },
    credentials,
    region,
    expiresIn: 900,
    now,
  });
  const sdk = await getSignedUrl(
    client,
    new PutObjectCommand({
      Bucket: 'chute-uploads',
      Key: 'incoming/user-42/1-0b8f3c1e.png',
      ContentType: 'image/png',
      ContentLength: 1001,
      Metadata: { 'upload-id': 'up-1', 'user-id': 'user-42' },
    }),
    {
      expiresIn: 900,
      signingDate: new Date(now),
      signableHeaders: new Set(['content-type']),
      unhoistableHeaders: new Set(['x-amz-meta-upload-id', 'x-amz-meta-user-id']),
    },
  );
  if (ours !== sdk) throw new Error(`presign differs from the SDK:\n${ours}\n${sdk}`);
  const u = new URL(oursPresign(7));
  verifyRequest(
    {
      method: 'PUT',
      rawPath: u.pathname,
      rawQuery: u.search.slice(1),
      headers: { host: u.host, ...headersFor(7) },
    },
    { lookupSecret: () => credentials.secretAccessKey, now: Date.now(), region },
  );
}

const rows: [string, number, number | undefined, string][] = [];
const raw = measureSync(rawHmac);
const ours = measureSync(oursPresign);
const sdk = await measureAsync(sdkPresign);
const oursP = measureSync(oursPost);
const sdkP = await measureAsync(sdkPost);

// aws-chunked: 64 MiB of signed 64 KiB chunks pushed in 64 KiB pieces, vs hashing the same bytes.
const payload = Buffer.alloc(64 * 1024 * 1024, 0x61);
const signed = signRequest({
  method: 'PUT',
  endpoint,
  path: '/b/k',
  credentials,
  region,
  payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
});
const body = encodeSignedChunks(payload, signed.chunkContext, { chunkSize: 65536 });
const decodeMBs = (() => {
  const start = performance.now();
  let rounds = 0;
  do {
    const d = new ChunkedDecoder({ kind: 'streaming-signed', trailer: false, seed: signed.chunkContext });
    for (let off = 0; off < body.length; off += 65536) sink += d.push(body.subarray(off, off + 65536)).length;
    d.end();
    rounds++;
  } while (performance.now() - start < BUDGET_MS);
  return (rounds * payload.length) / 1048576 / ((performance.now() - start) / 1000);
})();
const hashMBs = (() => {
  const start = performance.now();
  let rounds = 0;
  do {
    sink += createHash('sha256').update(payload).digest().length;
    rounds++;
  } while (performance.now() - start < BUDGET_MS);
  return (rounds * payload.length) / 1048576 / ((performance.now() - start) / 1000);
})();

rows.push(['presign PUT (4 signed headers)', ours, sdk, 'ops/s']);
rows.push(['POST policy', oursP, sdkP, 'ops/s']);
rows.push(['aws-chunked decode+verify (64 KiB chunks)', decodeMBs, hashMBs, 'MiB/s']);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`node ${process.version}, ${BUDGET_MS} ms per measurement\n`);
console.log('| operation | ours | peer | peer is | ours / peer | ours / raw HMAC |');
console.log('|---|---:|---:|---|---:|---:|');
console.log(`| raw createHmac(sha256).update().digest() | — | ${fmt(raw)} ops/s | — | — | 1.00× |`);
console.log(
  `| ${rows[0]![0]} | ${fmt(ours)} ops/s | ${fmt(sdk)} ops/s | getSignedUrl | ${(ours / sdk).toFixed(1)}× | ${(ours / raw).toFixed(2)}× |`,
);
console.log(
  `| ${rows[1]![0]} | ${fmt(oursP)} ops/s | ${fmt(sdkP)} ops/s | createPresignedPost | ${(oursP / sdkP).toFixed(1)}× | ${(oursP / raw).toFixed(2)}× |`,
);
console.log(
  `| ${rows[2]![0]} | ${fmt(decodeMBs)} MiB/s | ${fmt(hashMBs)} MiB/s | sha256 only | ${(decodeMBs / hashMBs).toFixed(2)}× | — |`,
);
console.log(
  `\ntargets: presign ≥ 30× SDK (${ours / sdk >= 30 ? 'met' : 'MISSED'}), ≥ 0.25× raw HMAC (${ours / raw >= 0.25 ? 'met' : 'MISSED'}); ` +
    `POST ≥ 5× SDK (${oursP / sdkP >= 5 ? 'met' : 'MISSED'})`,
);
if (sink === 42) console.log('');
