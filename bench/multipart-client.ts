/**
 * One client run of bench/multipart.ts, in its own process so that its peak RSS is the client's
 * alone: `node bench/multipart-client.ts '<json>'` → one JSON line {ms, partsMs?, state?, maxRssMiB}.
 * Modes: `chute` (@chute/client's upload(), multipart through the gateway), `put` (one presigned
 * PUT of the whole file, streamed from disk with node:http), `sdk` (@aws-sdk/lib-storage Upload).
 */
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { upload } from '@chute/client';
import { openFile } from '@chute/client/node';
import { presignUrl } from '@chute/sigv4';

interface Job {
  mode: 'chute' | 'put' | 'sdk';
  file: string;
  /** chute: the gateway and a token. */
  endpoint?: string;
  token?: string;
  route?: string;
  concurrency: number;
  partSize: number;
  /** put, sdk: the store. */
  s3?: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  key?: string;
}

const job = JSON.parse(process.argv[2]!) as Job;
const size = statSync(job.file).size;
const started = performance.now();
let partsMs: number | undefined;
let state: string | undefined;

if (job.mode === 'chute') {
  const done = await upload(await openFile(job.file, { type: 'application/octet-stream' }), {
    endpoint: job.endpoint!,
    token: job.token!,
    route: job.route!,
    concurrency: job.concurrency,
    onProgress: (p) => {
      if (p.loaded === p.total && partsMs === undefined) partsMs = performance.now() - started;
    },
  });
  state = done.state;
} else if (job.mode === 'put') {
  const s3 = job.s3!;
  const url = presignUrl({
    method: 'PUT',
    endpoint: s3.endpoint,
    path: `/${s3.bucket}/${job.key}`,
    headers: { 'content-length': String(size) },
    credentials: s3,
    region: s3.region,
    expiresIn: 3600,
  });
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-length': String(size) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    createReadStream(job.file, { highWaterMark: 1024 * 1024 }).pipe(req);
  });
  if (status !== 200) throw new Error(`PUT: ${status}`);
  state = 'stored';
} else {
  const s3 = job.s3!;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: s3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await new Upload({
    client,
    params: { Bucket: s3.bucket, Key: job.key!, Body: createReadStream(job.file) },
    partSize: job.partSize,
    queueSize: job.concurrency,
  }).done();
  client.destroy();
  state = 'stored';
}
const ms = performance.now() - started;
const maxRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ ms, partsMs, state, maxRssMiB })}\n`);
