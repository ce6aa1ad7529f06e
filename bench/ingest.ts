/**
 * Ingest throughput of the embedded store next to its peers, all measured in one run.
 *
 *   PUT  through a presigned URL: chute s3 | a node:http server that discards the body (the
 *        ceiling of any node:http server) | s3rver (npm), and two diagnostic sinks that show what
 *        bounds a PUT: node:http + MD5 inline, node:http + 1 MiB writes + fdatasync;
 *   PUT ×4  four PUTs at once into chute s3 (aggregate MB/s) | four MD5 streams at once, one
 *        thread each, in this process (aggregate MB/s): what the helper pool can reach;
 *   POST the same bytes as a browser form into chute s3;
 *   GET  chute s3 | a node:http server streaming the same file to the socket;
 *   RSS  peak (VmHWM) of the chute s3 process over a PUT + GET + POST of each size (warm start);
 *   MD5  one core's rate in this process, and the disk's durable write rate.
 *
 * Every server and the load generator run in their own processes; the client is the same for
 * every peer (one node:http request writing pre-filled 1 MiB buffers, reading nothing but the
 * answer). Throughput rows are the median of CHUTE_BENCH_RUNS interleaved rounds, and each target
 * is judged on the median of the ratios measured within a round, so a noisy neighbour on a shared
 * machine moves both sides of a ratio alike.
 *
 * Run: npx node bench/ingest.ts
 *   CHUTE_BENCH_MIB=1024        object size for the throughput rows (MiB)
 *   CHUTE_BENCH_RSS_MIB=100,1024  sizes whose peak RSS is reported (e.g. 100,1024,5120)
 *   CHUTE_BENCH_RUNS=3          interleaved rounds
 *   CHUTE_BENCH_CONCURRENT=4    PUTs at once in the concurrent row (0 skips it)
 * Not a test: nothing here asserts; targets are printed next to the figures.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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
import { open } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { presignUrl, signPostPolicy } from '@chute/sigv4';

const MiB = 1024 * 1024;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const CREDS = { accessKeyId: 'chutebench', secretAccessKey: 'chutebench-secret' };
const S3RVER_CREDS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';
const CHUNK = Buffer.alloc(MiB, 0x5a);

// ---- child-process roles: servers ------------------------------------------------------------

async function serve(role: string, arg: string): Promise<void> {
  let server: http.Server;
  if (role === 'discard') {
    server = http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => res.end());
    });
  } else if (role === 'md5') {
    // What hashing inline costs a node:http server: MD5 every chunk, store nothing.
    server = http.createServer((req, res) => {
      const h = createHash('md5');
      req.on('data', (c: Buffer) => h.update(c));
      req.on('end', () => res.end(h.digest('hex')));
    });
  } else if (role === 'file-sink') {
    // What storing durably costs without hashing: 1 MiB writes, then fdatasync (as the store).
    let n = 0;
    server = http.createServer(async (req, res) => {
      const fh = await open(path.join(arg, `sink-${n++}`), 'w');
      let batch: Buffer[] = [];
      let bytes = 0;
      let pos = 0;
      const pending = new Set<Promise<unknown>>();
      const flush = () => {
        const p = fh.writev(batch, pos);
        pos += bytes;
        batch = [];
        bytes = 0;
        pending.add(p);
        p.then(() => pending.delete(p));
        if (pending.size >= 4) {
          req.pause();
          Promise.race(pending).then(() => req.resume());
        }
      };
      req.on('data', (c: Buffer) => {
        batch.push(c);
        bytes += c.length;
        if (bytes >= MiB) flush();
      });
      req.on('end', async () => {
        if (bytes > 0) flush();
        await Promise.all(pending);
        await fh.datasync();
        await fh.close();
        res.end();
      });
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

// ---- child-process role: the load generator -------------------------------------------------

/**
 * One request: `head`, then `size` bytes in 1 MiB writes (socket backpressure respected), then
 * `tail`; GET reads and drops the answer. Prints MB/s of the payload to the end of the answer.
 */
async function client(spec: string): Promise<void> {
  const { method, url, size, headers, head, tail } = JSON.parse(spec) as {
    method: string;
    url: string;
    size: number;
    headers: Record<string, string>;
    head?: string;
    tail?: string;
  };
  const t0 = performance.now();
  const received = await new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let n = 0;
      const body: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (method !== 'GET') body.push(c);
      });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300)
          reject(new Error(`${method} ${res.statusCode}: ${Buffer.concat(body).toString().slice(0, 300)}`));
        else resolve(n);
      });
    });
    req.on('error', reject);
    if (method === 'GET') {
      req.end();
      return;
    }
    if (head) req.write(head);
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
  const bytes = method === 'GET' ? received : size;
  process.stdout.write(`${bytes / 1e6 / ((performance.now() - t0) / 1000)}\n`);
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

/** Runs one request from a fresh client process; resolves with its MB/s. */
async function request(spec: {
  method: string;
  url: string;
  size: number;
  headers?: Record<string, string>;
  head?: string;
  tail?: string;
  noSync?: boolean;
}): Promise<number> {
  // Each measurement starts with no writeback left over from the one before: s3rver does not
  // fsync, and flushing its 1 GiB of dirty pages would otherwise steal the next run's CPU.
  if (!spec.noSync) spawnSync('sync');
  const proc = spawn(process.execPath, [SELF, '--client', JSON.stringify({ headers: {}, ...spec })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c;
    });
    proc.once('exit', (code) => {
      const v = Number(out.trim());
      if (code === 0 && Number.isFinite(v)) resolve(v);
      else reject(new Error(`${spec.method} ${spec.url.slice(0, 60)}: client exited ${code}`));
    });
  });
}

const presign = (endpoint: string, method: string, p: string, creds = CREDS) =>
  presignUrl({ method, endpoint, path: p, credentials: creds, region: REGION, expiresIn: 3600 });

const put = (url: string, size: number) =>
  request({ method: 'PUT', url, size, headers: { 'content-length': String(size) } });
const get = (url: string) => request({ method: 'GET', url, size: 0 });

/** `n` PUTs of `size` bytes at once, from `n` client processes: aggregate MB/s, wall clock. */
async function putConcurrent(endpoint: string, n: number, size: number): Promise<number> {
  spawnSync('sync');
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      request({
        method: 'PUT',
        url: presign(endpoint, 'PUT', `/bench/many-${i}`),
        size,
        headers: { 'content-length': String(size) },
        noSync: true,
      }),
    ),
  );
  return (n * size) / 1e6 / ((performance.now() - t0) / 1000);
}

/** A browser-shaped form (the signed policy's fields, then the `file` part) of `size` bytes. */
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
  const head = `${Object.entries(fields)
    .map(([k, v]) => `${part(k)}\r\n${v}\r\n`)
    .join('')}${part('file', '; filename="form.bin"')}Content-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${b}--\r\n`;
  return request({
    method: 'POST',
    url,
    size,
    head,
    tail,
    headers: {
      'content-type': `multipart/form-data; boundary=${b}`,
      'content-length': String(Buffer.byteLength(head) + size + Buffer.byteLength(tail)),
    },
  });
}

/** A memory figure of a process from /proc/<pid>/status (VmHWM: peak, VmRSS: now), in MiB. */
const memory = (pid: number, field: 'VmHWM' | 'VmRSS') =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const peakRss = (pid: number) => memory(pid, 'VmHWM');
const rssNow = (pid: number) => memory(pid, 'VmRSS');
/** Starts a new peak (VmHWM) window. */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

function md5Rate(size: number): number {
  const h = createHash('md5');
  for (let i = 0; i < 64; i++) h.update(CHUNK); // warm up
  const n = Math.max(256, size / MiB);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) h.update(CHUNK);
  h.digest();
  return (n * MiB) / 1e6 / ((performance.now() - t0) / 1000);
}

/**
 * The aggregate MD5 rate of `n` streams hashed at once, one worker thread each (`size` bytes
 * each): the peer of `n` PUTs at once, whose MD5s the store's helper pool computes.
 */
async function md5Parallel(n: number, size: number): Promise<number> {
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const chunk = Buffer.alloc(${MiB}, 0x5a);
    const h = createHash('md5');
    for (let i = 0; i < 64; i++) h.update(chunk); // warm up
    parentPort.postMessage('ready');
    parentPort.once('message', () => {
      for (let i = 0; i < workerData; i++) h.update(chunk);
      h.digest();
      parentPort.postMessage('done');
    });`;
  const workers = Array.from({ length: n }, () => new Worker(src, { eval: true, workerData: size / MiB }));
  const once = (w: Worker) => new Promise((r) => w.once('message', r));
  await Promise.all(workers.map(once));
  const t0 = performance.now();
  const done = workers.map(once);
  for (const w of workers) w.postMessage('go');
  await Promise.all(done);
  const rate = (n * size) / 1e6 / ((performance.now() - t0) / 1000);
  await Promise.all(workers.map((w) => w.terminate()));
  return rate;
}

/** The disk's durable write rate: 1 MiB writes into a new file + fdatasync, as the store does. */
async function diskRate(dir: string, size: number): Promise<number> {
  const file = path.join(dir, 'disk-probe');
  const fh = await open(file, 'w');
  const t0 = performance.now();
  for (let off = 0; off < size; off += MiB) await fh.write(CHUNK, 0, MiB, off);
  await fh.datasync();
  const rate = size / 1e6 / ((performance.now() - t0) / 1000);
  await fh.close();
  rmSync(file);
  return rate;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---- the run -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const SIZE = Number(process.env['CHUTE_BENCH_MIB'] ?? 1024) * MiB;
  const RSS_SIZES = (process.env['CHUTE_BENCH_RSS_MIB'] ?? `100,${SIZE / MiB}`)
    .split(',')
    .map((s) => Number(s) * MiB);
  const RUNS = Number(process.env['CHUTE_BENCH_RUNS'] ?? 3);
  const CONCURRENT = Number(process.env['CHUTE_BENCH_CONCURRENT'] ?? 4);
  const work = mkdtempSync(path.join(tmpdir(), 'chute-bench-'));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
  const ratio = (v: number) => `${v.toFixed(2)}×`;
  const rows: { name: string; value: string; target?: string; ok?: boolean }[] = [];
  const children: Child[] = [];
  const start = async (args: string[]) => {
    const c = await spawnServer(args);
    children.push(c);
    return c;
  };
  try {
    const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const chute = (data: string) => [
      path.join(ROOT, 'packages/cli/bin/chute.js'),
      's3',
      '--port',
      '0',
      '--data',
      data,
      '--access-key',
      CREDS.accessKeyId,
      '--secret-key',
      CREDS.secretAccessKey,
      '--bucket',
      'bench',
      '--quiet',
    ];
    // One start first, so the measured store starts as it does every time but the first after
    // an install or an edit: from Node's compile cache, without loading the TypeScript stripper
    // (~26 MiB). That start's idle RSS is reported too (cold only if the cache was empty).
    const first = await start(chute(path.join(work, 'warmup')));
    await new Promise((r) => setTimeout(r, 500));
    const rssCold = rssNow(first.proc.pid!);
    await stop(first);
    const store = await start(chute(path.join(work, 'chute')));
    const pid = store.proc.pid!;
    await new Promise((r) => setTimeout(r, 500));
    const rssIdle = rssNow(pid);

    // RSS flatness first, each size in its own peak window over a PUT, a GET and a POST.
    const rss: number[] = [];
    for (const size of RSS_SIZES) {
      resetPeak(pid);
      await put(presign(store.url, 'PUT', '/bench/rss'), size);
      await get(presign(store.url, 'GET', '/bench/rss'));
      await postForm(store.url, size);
      rss.push(peakRss(pid));
      log(`rss ${size / MiB} MiB: ${rss.at(-1)!.toFixed(0)} MiB`);
    }

    if (RUNS === 0) {
      // RSS only (CHUTE_BENCH_RUNS=0).
      await stop(store);
      for (const [i, size] of RSS_SIZES.entries())
        process.stdout.write(
          `peak RSS, PUT+GET+POST of ${size / MiB} MiB: ${rss[i]!.toFixed(0)} MiB (idle ${rssIdle.toFixed(0)}, first start ${rssCold.toFixed(0)})\n`,
        );
      return;
    }
    const discard = await start([SELF, '--serve', 'discard', '']);
    const md5Sink = await start([SELF, '--serve', 'md5', '']);
    const fileSink = await start([SELF, '--serve', 'file-sink', work]);
    let s3rver: Child | undefined;
    try {
      s3rver = await start([SELF, '--serve', 's3rver', path.join(work, 's3rver')]);
    } catch (e) {
      log(`s3rver failed: ${(e as Error).message}`);
    }

    const r: Record<string, number[]> = {};
    const add = (k: string, v: number) => {
      r[k] ??= [];
      r[k].push(v);
    };
    for (let i = 0; i < RUNS; i++) {
      const md5 = md5Rate(SIZE);
      add('md5', md5);
      add('disk', await diskRate(work, SIZE));
      const d = await put(`${discard.url}/x`, SIZE);
      add('discard', d);
      const p = await put(presign(store.url, 'PUT', '/bench/big'), SIZE);
      add('put', p);
      add('put/md5', p / md5);
      add('put/discard', p / d);
      add('md5sink', await put(`${md5Sink.url}/x`, SIZE));
      add('filesink', await put(`${fileSink.url}/x`, SIZE));
      for (const f of readdirSync(work).filter((f) => f.startsWith('sink-'))) rmSync(path.join(work, f));
      if (s3rver) {
        const s = await put(presign(s3rver.url, 'PUT', '/bench/big', S3RVER_CREDS), SIZE);
        add('s3rver', s);
        add('put/s3rver', p / s);
      }
      const f = await postForm(store.url, SIZE);
      add('post', f);
      add('post/md5', f / md5);
      if (CONCURRENT > 0) {
        const md5n = await md5Parallel(CONCURRENT, SIZE);
        add('md5n', md5n);
        const pn = await putConcurrent(store.url, CONCURRENT, SIZE);
        add('putn', pn);
        add('putn/md5n', pn / md5n);
        add('putn/put', pn / p);
        log(`round ${i + 1}: ${CONCURRENT} MD5 streams ${fmt(md5n)}, ${CONCURRENT} PUTs at once ${fmt(pn)}`);
      }
      log(
        `round ${i + 1}: md5 ${fmt(md5)} discard ${fmt(d)} PUT ${fmt(p)} (${ratio(p / md5)}) POST ${fmt(f)} s3rver ${fmt(r['s3rver']?.at(-1) ?? Number.NaN)}`,
      );
    }
    if (s3rver) await stop(s3rver);
    await stop(discard);
    await stop(md5Sink);
    await stop(fileSink);

    // GET: the store and a plain file-to-socket server over the very blob the store wrote,
    // alternated so neither gets a warmer cache or a quieter disk.
    const blobs = path.join(work, 'chute', 'buckets', 'bench', 'blobs');
    const blob = readdirSync(blobs)
      .map((f) => path.join(blobs, f))
      .find((f) => statSync(f).size === SIZE)!;
    const fileServer = await start([SELF, '--serve', 'file', blob]);
    // The store wrote the blob with direct I/O, so it is not in the page cache yet: one
    // unmeasured read puts it there for both servers alike.
    await get(`${fileServer.url}/`);
    for (let i = 0; i < RUNS; i++) {
      const f = await get(`${fileServer.url}/`);
      const g = await get(presign(store.url, 'GET', '/bench/big'));
      add('getfile', f);
      add('get', g);
      add('get/file', g / f);
    }
    await stop(fileServer);
    await stop(store);
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

    const m = (k: string) => median(r[k] ?? []);
    const md5 = m('md5');
    const serial = 1 / (1 / md5 + 1 / m('discard'));
    rows.push({ name: 'MD5, one core (bench process)', value: fmt(md5) });
    rows.push({ name: 'disk: 1 MiB writes + fdatasync', value: fmt(m('disk')) });
    rows.push({ name: 'PUT discard server (node:http ceiling)', value: fmt(m('discard')) });
    rows.push({ name: '  diag: node:http + MD5 inline', value: fmt(m('md5sink')) });
    rows.push({ name: '  diag: 1/(1/MD5 + 1/discard)', value: fmt(serial) });
    rows.push({ name: '  diag: node:http + 1 MiB writes + fdatasync', value: fmt(m('filesink')) });
    rows.push({
      name: 'PUT chute s3 (presigned, MD5, fsync)',
      value: fmt(m('put')),
      target: `≥ 0.75×MD5: ${ratio(m('put/md5'))}`,
      ok: m('put/md5') >= 0.75,
    });
    if (CONCURRENT > 0) {
      rows.push({ name: `MD5, ${CONCURRENT} streams at once (aggregate)`, value: fmt(m('md5n')) });
      rows.push({
        name: `PUT chute s3, ${CONCURRENT} at once (aggregate)`,
        value: fmt(m('putn')),
        target: `${ratio(m('putn/md5n'))} of ${CONCURRENT}×MD5, ${ratio(m('putn/put'))} of one PUT`,
      });
    }
    rows.push({ name: 'PUT s3rver', value: r['s3rver'] ? fmt(m('s3rver')) : 'failed' });
    rows.push({
      name: 'PUT chute / s3rver',
      value: r['put/s3rver'] ? ratio(m('put/s3rver')) : 'n/a',
      target: '≥ 2×',
      ok: r['put/s3rver'] ? m('put/s3rver') >= 2 : undefined,
    });
    rows.push({
      name: 'POST form chute s3 (policy, MD5, fsync)',
      value: fmt(m('post')),
      target: `≥ 0.65×MD5: ${ratio(m('post/md5'))}`,
      ok: m('post/md5') >= 0.65,
    });
    rows.push({ name: 'GET file-to-socket server', value: fmt(m('getfile')) });
    rows.push({
      name: 'GET chute s3 (presigned)',
      value: fmt(m('get')),
      target: `≥ 0.8×file: ${ratio(m('get/file'))}`,
      ok: m('get/file') >= 0.8,
    });
    rows.push({ name: "RSS chute s3, idle after the bench's first start (MiB)", value: rssCold.toFixed(0) });
    rows.push({ name: 'RSS chute s3, idle after a warm start (MiB)', value: rssIdle.toFixed(0) });
    RSS_SIZES.forEach((size, i) => {
      rows.push({
        name: `peak RSS, PUT+GET+POST of ${size / MiB} MiB (MiB)`,
        value: rss[i]!.toFixed(0),
        target:
          i === 0
            ? '≤ 120'
            : `≤ 120, flat (${rss[i]! - rss[0]! >= 0 ? '+' : ''}${(rss[i]! - rss[0]!).toFixed(0)})`,
        ok: rss[i]! <= 120 && (i === 0 || rss[i]! - rss[0]! < 10),
      });
    });
    const w = Math.max(...rows.map((x) => x.name.length));
    const out = [
      `chute s3 ingest bench — ${SIZE / MiB} MiB objects, median of ${RUNS} rounds, MB/s = 10^6 bytes/s, load ${load0} → ${load1}`,
      `${'measure'.padEnd(w)}  ${'value'.padStart(8)}  target`,
      ...rows.map(
        (x) =>
          `${x.name.padEnd(w)}  ${x.value.padStart(8)}  ${x.target ?? ''}${x.ok === undefined ? '' : x.ok ? '  PASS' : '  MISS'}`,
      ),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

const serveAt = process.argv.indexOf('--serve');
const clientAt = process.argv.indexOf('--client');
if (serveAt >= 0) await serve(process.argv[serveAt + 1]!, process.argv[serveAt + 2] ?? '');
else if (clientAt >= 0) await client(process.argv[clientAt + 1]!);
else await main();
