/**
 * A large upload through @chute/client (multipart through the gateway, straight to the embedded
 * store) next to its peers on the same store in the same run:
 *   - one presigned PUT of the whole file (node:http, streamed from disk): the wire's ceiling
 *     (goal: @chute/client ≥ 0.9× its MB/s);
 *   - the AWS SDK's @aws-sdk/lib-storage Upload, same part size and parallelism (goal ≥ 1×);
 * and the client's peak RSS for 200 MiB against 2 GiB (goal: flat — memory does not grow with
 * the file). The servers run as `chute dev` runs them (startDev: embedded store + gateway on
 * SQLite, in this process); each client runs in a child process (bench/multipart-client.ts) so
 * its RSS is its own. @chute/client is timed twice: to its last part stored ("parts", which is
 * what the peers do, less their CompleteMultipartUpload) and to its answer ("end to end": the
 * gateway's complete also assembles, verifies and freezes the file — more work than the peers).
 * One run of each (a shared machine); BENCH_SIZE_MIB (default 2048), BENCH_CONCURRENCY (4).
 * Run: npm run bench:multipart
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { loadOrCreateDevSecret, startDev } from '@chute/cli';
import { mintToken } from '@chute/gateway';
import { printTable } from './lib/table.ts';

const MiB = 2 ** 20;
const BIG = Number(process.env['BENCH_SIZE_MIB'] ?? 2048) * MiB;
const SMALL = 200 * MiB;
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 4);
/** The gateway's part size (packages/gateway/src/rules/parts.ts), given to the SDK too. */
const PART = 16 * MiB;

const dir = mkdtempSync(join(tmpdir(), 'chute-bench-multipart-'));
/** A file of `size` bytes of no known format: a header, then one random MiB over and over. */
function makeFile(name: string, size: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const block = randomBytes(MiB);
  block.write('CHUTE-BENCH-BIN\n');
  for (let at = 0; at < size; at += MiB) writeSync(fd, block, 0, Math.min(MiB, size - at));
  closeSync(fd);
  return path;
}

const data = join(dir, 'dev');
const dev = await startDev({ dataDir: data, host: '127.0.0.1', port: 0, s3Port: 0 });
const secret = await loadOrCreateDevSecret(data);
const token = await mintToken({ user: 'bench', role: 'uploader', secret });
const st = dev.config.storage;
const s3 = {
  endpoint: dev.storeUrl,
  region: st.region,
  bucket: dev.bucket,
  accessKeyId: st.accessKeyId,
  secretAccessKey: st.secretAccessKey,
};
const admin = new S3Client({
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  credentials: s3,
  requestChecksumCalculation: 'WHEN_REQUIRED',
});

/** Every object gone between runs: each run writes the file again (and the disk stays small). */
async function emptyBucket(): Promise<void> {
  for (;;) {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length === 0) return;
    await admin.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys, Quiet: true } }));
  }
}

interface Result {
  ms: number;
  partsMs?: number;
  state: string;
  maxRssMiB: number;
}

/** One client in its own process (spawned, not spawnSync: our servers answer it). */
async function client(mode: 'chute' | 'put' | 'sdk', file: string, key: string): Promise<Result> {
  const job = {
    mode,
    file,
    endpoint: dev.gatewayUrl,
    token,
    route: 'video',
    concurrency: CONCURRENCY,
    partSize: PART,
    s3,
    key,
  };
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'multipart-client.ts'), JSON.stringify(job)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${mode} client exited ${code}`);
  await emptyBucket();
  return JSON.parse(out) as Result;
}

const big = makeFile('big.bin', BIG);
const small = makeFile('small.bin', SMALL);
const mb = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
try {
  const put = await client('put', big, 'bench/put');
  const sdk = await client('sdk', big, 'bench/sdk');
  const chute = await client('chute', big, '');
  const chuteSmall = await client('chute', small, '');
  if (chute.state !== 'verified' || chuteSmall.state !== 'verified')
    throw new Error(`chute uploads ended ${chute.state}, ${chuteSmall.state}`);

  const label = `${BIG / MiB} MiB`;
  const putRate = mb(BIG, put.ms);
  const sdkRate = mb(BIG, sdk.ms);
  const row = (name: string, size: number, ms: number, rss: number) => [
    name,
    size === BIG ? label : `${size / MiB} MiB`,
    (ms / 1000).toFixed(2),
    mb(size, ms).toFixed(0),
    (mb(size, ms) / putRate).toFixed(2),
    (mb(size, ms) / sdkRate).toFixed(2),
    rss.toFixed(0),
  ];
  console.log(
    `\nMultipart upload to the embedded store (chute dev), ${CONCURRENCY} parts in flight, ${PART / MiB} MiB parts; one run each.\n`,
  );
  printTable([
    ['client', 'size', 's', 'MB/s', '× PUT', '× SDK', 'peak RSS MiB'],
    row('one presigned PUT (node:http)', BIG, put.ms, put.maxRssMiB),
    row('@aws-sdk/lib-storage Upload', BIG, sdk.ms, sdk.maxRssMiB),
    row('@chute/client, parts', BIG, chute.partsMs!, chute.maxRssMiB),
    row('@chute/client, end to end', BIG, chute.ms, chute.maxRssMiB),
    row('@chute/client, end to end', SMALL, chuteSmall.ms, chuteSmall.maxRssMiB),
  ]);
  // Against the PUT: bytes to storage (a PUT assembles nothing). Against the SDK: end to end —
  // its time includes CompleteMultipartUpload (the store assembling the file), ours that and
  // the gateway's verify and freeze too, so the ratio is if anything unfair to us.
  const vsPut = mb(BIG, chute.partsMs!) / putRate;
  const vsSdk = mb(BIG, chute.ms) / sdkRate;
  const rss = chute.maxRssMiB / chuteSmall.maxRssMiB;
  console.log(
    `\n@chute/client (parts) / PUT: ${vsPut.toFixed(2)} (goal ≥ 0.9) ${vsPut >= 0.9 ? 'met' : 'NOT met'}; ` +
      `(end to end) / SDK: ${vsSdk.toFixed(2)} (goal ≥ 1) ${vsSdk >= 1 ? 'met' : 'NOT met'}; ` +
      `peak RSS ${label} / 200 MiB: ${rss.toFixed(2)} (goal: flat, ≤ 1.2) ${rss <= 1.2 ? 'met' : 'NOT met'}`,
  );
} finally {
  admin.destroy();
  await dev.close();
  rmSync(dir, { recursive: true, force: true });
}
