/**
 * Ingest throughput of the embedded store next to its peers, all measured in one run:
 *   PUT  1 GiB through a presigned URL: chute s3 | a node:http server that discards the body |
 *        s3rver (npm), each server in its own child process, the client here;
 *   GET  1 GiB: chute s3 | a node:http server piping the same file to the socket;
 *   RSS  peak (VmHWM) of the chute s3 process over a PUT+GET of 100 MiB and of the full size;
 *   MD5  one core's rate in this process (the target is relative to it).
 * Run: npx node bench/ingest.ts   (CHUTE_BENCH_MIB=256 for a shorter run; default 1024)
 * Not a test: nothing here asserts; targets are printed next to the figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { presignUrl, signPostPolicy } from '@chute/sigv4';

const MiB = 1024 * 1024;
const SIZE = Number(process.env['CHUTE_BENCH_MIB'] ?? 1024) * MiB;
const SMALL = Math.min(100 * MiB, SIZE);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const CREDS = { accessKeyId: 'chutebench', secretAccessKey: 'chutebench-secret' };
const S3RVER_CREDS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';

// ---- child-process roles -------------------------------------------------------------------

async function serve(role: string, arg: string): Promise<void> {
  let server: http.Server;
  if (role === 'discard') {
    server = http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => res.end());
    });
  } else if (role === 'file') {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': statSync(arg).size });
      createReadStream(arg, { highWaterMark: MiB }).pipe(res);
    });
  } else if (role === 's3rver') {
    // s3rver ships no types; only its constructor and run() are used.
    const specifier: string = 's3rver';
    const { default: S3rver } = (await import(specifier)) as {
      default: new (opts: Record<string, unknown>) => { run(): Promise<unknown> };
    };
    const s = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: arg,
      configureBuckets: [{ name: 'bench' }],
    });
    const addr = (await s.run()) as AddressInfo;
    process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);
    return;
  } else throw new Error(`unknown role ${role}`);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
}

// ---- helpers -------------------------------------------------------------------------------

interface Child {
  proc: ChildProcess;
  url: string;
}

function spawnServer(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) resolve({ proc, url: m[1]! });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)));
  });
}

async function stop(c: Child): Promise<void> {
  const done = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await done;
}

const CHUNK = Buffer.alloc(MiB, 0x5a);

/** PUT `size` bytes (1 MiB writes, socket backpressure respected); MB/s to the response. */
function put(url: string, size: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      url,
      { method: 'PUT', headers: { ...headers, 'content-length': size } },
      (res) => {
        const body: Buffer[] = [];
        res.on('data', (c: Buffer) => body.push(c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300)
            reject(new Error(`PUT ${res.statusCode}: ${Buffer.concat(body)}`));
          else resolve(size / 1e6 / ((performance.now() - t0) / 1000));
        });
      },
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(CHUNK.length, size - sent);
        sent += n;
        if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http
      .get(url, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${res.statusCode}`));
          else resolve(n / 1e6 / ((performance.now() - t0) / 1000));
        });
      })
      .on('error', reject);
  });
}

/**
 * POST `size` bytes as a browser form: the signed policy's fields, then the `file` part (1 MiB
 * writes, backpressure respected); MB/s to the response.
 */
function postForm(endpoint: string, size: number): Promise<number> {
  const { url, fields } = signPostPolicy({
    endpoint,
    bucket: 'bench',
    key: 'form',
    region: REGION,
    credentials: CREDS,
    conditions: [['content-length-range', 0, size]],
  });
  const b = '----WebKitFormBoundary7MA4YWxkTrZu0gW'; // as Chromium sends
  const part = (name: string, extra = '') =>
    `--${b}\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n`;
  const head = Buffer.from(
    `${Object.entries(fields)
      .map(([k, v]) => `${part(k)}\r\n${v}\r\n`)
      .join('')}${part('file', '; filename="form.bin"')}Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${b}--\r\n`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const headers = {
      'content-type': `multipart/form-data; boundary=${b}`,
      'content-length': head.length + size + tail.length,
    };
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const body: Buffer[] = [];
      res.on('data', (c: Buffer) => body.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`POST ${res.statusCode}: ${Buffer.concat(body)}`));
        else resolve(size / 1e6 / ((performance.now() - t0) / 1000));
      });
    });
    req.on('error', reject);
    req.write(head);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(CHUNK.length, size - sent);
        sent += n;
        if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end(tail);
    };
    pump();
  });
}

const presign = (endpoint: string, method: string, p: string, creds = CREDS) =>
  presignUrl({ method, endpoint, path: p, credentials: creds, region: REGION, expiresIn: 3600 });

/** Peak RSS (VmHWM) of a process in MiB; resetPeak() starts a new measurement window. */
const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

function md5Rate(): number {
  const h = createHash('md5');
  for (let i = 0; i < 64; i++) h.update(CHUNK); // warm up
  const n = Math.max(256, SIZE / MiB);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) h.update(CHUNK);
  h.digest();
  return (n * MiB) / 1e6 / ((performance.now() - t0) / 1000);
}

/** The disk's durable write rate: 1 MiB writes + fdatasync, as the store must do (the floor under any PUT). */
async function diskRate(dir: string): Promise<number> {
  const { open } = await import('node:fs/promises');
  const file = path.join(dir, 'disk-probe');
  const fh = await open(file, 'w');
  const t0 = performance.now();
  for (let off = 0; off < SIZE; off += MiB) await fh.write(CHUNK, 0, MiB, off);
  await fh.datasync();
  const rate = SIZE / 1e6 / ((performance.now() - t0) / 1000);
  await fh.close();
  rmSync(file);
  return rate;
}

/** Best of `runs` (the first run also warms the page cache and the JIT). */
async function best(runs: number, fn: () => Promise<number>): Promise<number> {
  let b = 0;
  for (let i = 0; i < runs; i++) b = Math.max(b, await fn());
  return b;
}

// ---- the run -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'chute-bench-'));
  const rows: { name: string; value: string; target: string; ok?: boolean }[] = [];
  const fmt = (v: number) => v.toFixed(0);
  try {
    const md5 = md5Rate();
    process.stderr.write(`md5 ${fmt(md5)} MB/s; size ${SIZE / MiB} MiB\n`);

    const store = await spawnServer([
      path.join(ROOT, 'packages/cli/src/main.ts'),
      's3',
      '--port',
      '0',
      '--data',
      path.join(work, 'chute'),
      '--access-key',
      CREDS.accessKeyId,
      '--secret-key',
      CREDS.secretAccessKey,
      '--bucket',
      'bench',
      '--quiet',
    ]);
    const pid = store.proc.pid!;
    await new Promise((r) => setTimeout(r, 500));
    const rssIdle = peakRss(pid);

    // RSS flatness: a small object first, then the full size, each in its own peak window.
    resetPeak(pid);
    await put(presign(store.url, 'PUT', '/bench/small'), SMALL);
    await get(presign(store.url, 'GET', '/bench/small'));
    const rssSmall = peakRss(pid);

    resetPeak(pid);
    const putStore = await best(2, () => put(presign(store.url, 'PUT', '/bench/big'), SIZE));
    let getStore = await get(presign(store.url, 'GET', '/bench/big'));
    const rssBig = peakRss(pid);
    const postStore = await best(2, () => postForm(store.url, SIZE));
    process.stderr.write(`chute PUT ${fmt(putStore)} GET ${fmt(getStore)} MB/s\n`);

    // Plain file-to-socket server over the very blob the store just wrote.
    const blobs = path.join(work, 'chute', 'buckets', 'bench', 'blobs');
    const blob = readdirSync(blobs)
      .map((f) => path.join(blobs, f))
      .find((f) => statSync(f).size === SIZE)!;
    const fileServer = await spawnServer([SELF, '--serve', 'file', blob]);
    // Alternate the two GETs so neither gets a warmer cache or a quieter disk.
    let getFile = 0;
    for (let i = 0; i < 3; i++) {
      getFile = Math.max(getFile, await get(`${fileServer.url}/`));
      getStore = Math.max(getStore, await get(presign(store.url, 'GET', '/bench/big')));
    }
    await stop(fileServer);
    await stop(store);

    const discard = await spawnServer([SELF, '--serve', 'discard', '']);
    const putDiscard = await best(2, () => put(`${discard.url}/x`, SIZE));
    await stop(discard);

    let putS3rver: number | undefined;
    try {
      const s3rver = await spawnServer([SELF, '--serve', 's3rver', path.join(work, 's3rver')]);
      putS3rver = await best(1, () => put(presign(s3rver.url, 'PUT', '/bench/big', S3RVER_CREDS), SIZE));
      await stop(s3rver);
    } catch (e) {
      process.stderr.write(`s3rver failed: ${(e as Error).message}\n`);
    }

    const disk = await diskRate(work);
    rows.push({ name: 'MD5, one core (this process)', value: fmt(md5), target: '—' });
    rows.push({ name: 'disk: 1 MiB writes + fdatasync', value: fmt(disk), target: '—' });
    rows.push({ name: 'PUT discard server (ceiling)', value: fmt(putDiscard), target: '—' });
    rows.push({
      name: 'PUT chute s3 (presigned, MD5, fsync)',
      value: fmt(putStore),
      target: `≥ 0.75×MD5 = ${fmt(0.75 * md5)}  (${(putStore / md5).toFixed(2)}×)`,
      ok: putStore >= 0.75 * md5,
    });
    rows.push({ name: 'PUT s3rver', value: putS3rver ? fmt(putS3rver) : 'failed', target: '—' });
    rows.push({
      name: 'PUT chute / s3rver',
      value: putS3rver ? `${(putStore / putS3rver).toFixed(2)}×` : 'n/a',
      target: '≥ 2×',
      ok: putS3rver ? putStore >= 2 * putS3rver : undefined,
    });
    rows.push({ name: 'GET file-to-socket server', value: fmt(getFile), target: '—' });
    rows.push({
      name: 'GET chute s3 (presigned)',
      value: fmt(getStore),
      target: `≥ 0.8×file = ${fmt(0.8 * getFile)}  (${(getStore / getFile).toFixed(2)}×)`,
      ok: getStore >= 0.8 * getFile,
    });
    rows.push({
      name: 'POST form chute s3 (policy, MD5, fsync)',
      value: fmt(postStore),
      target: `≥ 0.9×PUT = ${fmt(0.9 * putStore)}  (${(postStore / putStore).toFixed(2)}×)`,
      ok: postStore >= 0.9 * putStore,
    });
    rows.push({ name: 'RSS chute s3, idle after start (MiB)', value: rssIdle.toFixed(0), target: '—' });
    rows.push({
      name: `peak RSS chute s3, ${SMALL / MiB} MiB object (MiB)`,
      value: rssSmall.toFixed(0),
      target: '≤ 120',
      ok: rssSmall <= 120,
    });
    rows.push({
      name: `peak RSS chute s3, ${SIZE / MiB} MiB object (MiB)`,
      value: rssBig.toFixed(0),
      target: `≤ 120, flat (+${(rssBig - rssSmall).toFixed(0)})`,
      ok: rssBig <= 120 && rssBig - rssSmall < 20,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const w = Math.max(...rows.map((r) => r.name.length));
  const out = [
    `chute s3 ingest bench — ${SIZE / MiB} MiB objects, MB/s = 10^6 bytes/s`,
    `${'measure'.padEnd(w)}  ${'value'.padStart(8)}  target`,
    ...rows.map(
      (r) =>
        `${r.name.padEnd(w)}  ${r.value.padStart(8)}  ${r.target}${r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED'}`,
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) await serve(process.argv[serveAt + 1]!, process.argv[serveAt + 2] ?? '');
else await main();
