/**
 * Proxy mode next to a direct upload of the same file, in the same run: the gateway's CPU
 * seconds per GiB (its own process, read from /proc/{pid}/stat: utime + stime) and MB/s seen by
 * the client, for
 *
 *   direct  POST /v1/grants (PUT) → PUT the bytes to storage's presigned URL → POST …/complete
 *   proxy   POST /v1/grants       → PUT /v1/uploads/{id}/content (through the gateway, which
 *           sniffs, counts, hashes MD5 + SHA-256 and streams on) — complete included
 *
 * Target: direct ≤ 1/50 of proxy in gateway CPU per GiB (a direct upload's bytes never touch the
 * gateway). The gateway runs in a child process; the embedded store (in this process, as the
 * conformance suite opens it; CHUTE_S3_TARGET=rgw + S3_* for RGW) and the client run here, the
 * client writing pre-filled 1 MiB buffers over node:http. Rounds alternate direct and proxy.
 *
 * Run: npm run bench:proxy
 *   CHUTE_BENCH_MIB=1024   file size (MiB)
 *   CHUTE_BENCH_RUNS=2     rounds (medians are printed)
 * Not a test: nothing here asserts; the target is printed next to the figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGateway, mintToken, parseConfig, route, silentLogger } from '@chute/gateway';
import { signHeaders } from '@chute/sigv4';
import { openTarget } from '../test/conformance/target.ts';
import { printTable } from './lib/table.ts';

const SECRET = 'bench-secret-bench-secret-bench-secret-00';
const MiB = 1024 * 1024;
const SIZE = Number(process.env['CHUTE_BENCH_MIB'] ?? 1024) * MiB;
const RUNS = Number(process.env['CHUTE_BENCH_RUNS'] ?? 2);
const CHUNK = Buffer.alloc(MiB, 0x5a);

// ---- child: the gateway ------------------------------------------------------------------------
if (process.argv[2] === 'gateway') {
  const config = parseConfig({
    ...JSON.parse(process.argv[3]!),
    routes: [route('blob').types('application/octet-stream').maxSize('4GiB').method('put').proxy()],
  });
  const gateway = await createGateway(config, { logger: silentLogger(), sweep: false, dispatch: false });
  const { url } = await gateway.listen();
  process.stdout.write(`${url}\n`);
  process.on('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const target = await openTarget();
  const bucket = `${target.bucketPrefix}-bench-proxy`;
  const credentials = { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey };
  const signed = signHeaders({
    method: 'PUT',
    endpoint: target.endpoint,
    path: `/${bucket}`,
    credentials,
    region: target.region,
    payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
  delete signed['host'];
  const made = await fetch(`${target.endpoint}/${bucket}`, { method: 'PUT', headers: signed });
  if (!made.ok) throw new Error(`CreateBucket: ${made.status}`);

  const dir = mkdtempSync(join(tmpdir(), 'chute-bench-proxy-'));
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      'gateway',
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        storage: { endpoint: target.endpoint, region: target.region, bucket, ...credentials },
        database: { url: `sqlite:${join(dir, 'chute.db')}` },
        auth: { jwt: { secret: SECRET } },
        quotas: { bytesPerDay: '1000GB', pendingGrants: 1000 },
        proxy: { maxInFlight: '8GiB' },
      }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const gatewayUrl = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}`)));
  });
  const token = await mintToken({ user: 'bench', role: 'uploader', secret: SECRET });
  const auth = { authorization: `Bearer ${token}` };

  /** The gateway process's CPU seconds so far (utime + stime, clock ticks of 1/100 s). */
  const cpu = (): number => {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };

  /** One PUT of `size` bytes, 1 MiB writes; resolves with the answer's status and body. */
  const put = (url: string, headers: Record<string, string>, size: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(url, {
        method: 'PUT',
        headers: { ...headers, 'content-length': String(size) },
      });
      req.on('response', async (res) => {
        let body = '';
        for await (const c of res) body += c;
        resolve({ status: res.statusCode ?? 0, body });
      });
      req.on('error', reject);
      (async () => {
        for (let sent = 0; sent < size; sent += CHUNK.length) {
          if (!req.write(CHUNK.subarray(0, Math.min(CHUNK.length, size - sent))))
            await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch(reject);
    });

  const grant = async (size: number) => {
    const res = await fetch(`${gatewayUrl}/v1/grants`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        route: 'blob',
        filename: 'b.bin',
        contentType: 'application/octet-stream',
        size,
      }),
    });
    if (res.status !== 201) throw new Error(`grant: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; url: string; headers: Record<string, string> };
  };

  async function direct(size = SIZE): Promise<void> {
    const g = await grant(size);
    const headers = { ...g.headers };
    delete headers['content-length'];
    const up = await put(g.url, headers, size);
    if (up.status !== 200) throw new Error(`direct PUT: ${up.status} ${up.body}`);
    const done = await fetch(`${gatewayUrl}/v1/uploads/${g.id}/complete`, { method: 'POST', headers: auth });
    const json = (await done.json()) as { state: string };
    if (json.state !== 'verified') throw new Error(`direct complete: ${JSON.stringify(json)}`);
  }
  async function proxy(size = SIZE): Promise<void> {
    const g = await grant(size);
    const up = await put(
      `${gatewayUrl}/v1/uploads/${g.id}/content`,
      {
        ...auth,
        'content-type': 'application/octet-stream',
      },
      size,
    );
    if (up.status !== 200 || JSON.parse(up.body).state !== 'verified')
      throw new Error(`proxy: ${up.status} ${up.body}`);
  }

  const results: Record<'direct' | 'proxy', { cpu: number[]; mbps: number[] }> = {
    direct: { cpu: [], mbps: [] },
    proxy: { cpu: [], mbps: [] },
  };
  try {
    // Warm-up (JIT, the database's first statements): one small upload each way, not counted.
    await direct(MiB);
    await proxy(MiB);
    for (let run = 0; run < RUNS; run++) {
      for (const [name, fn] of [
        ['direct', direct],
        ['proxy', proxy],
      ] as const) {
        const c0 = cpu();
        const t0 = performance.now();
        await fn(SIZE);
        const seconds = (performance.now() - t0) / 1000;
        results[name].cpu.push((cpu() - c0) / (SIZE / 1024 ** 3));
        results[name].mbps.push(SIZE / 1e6 / seconds);
      }
    }
  } finally {
    child.kill('SIGTERM');
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const d = { cpu: median(results.direct.cpu), mbps: median(results.direct.mbps) };
  const p = { cpu: median(results.proxy.cpu), mbps: median(results.proxy.mbps) };
  console.log(
    `\n${SIZE / MiB} MiB, ${RUNS} round(s), storage: ${target.name}; gateway CPU from /proc (10 ms ticks)\n`,
  );
  printTable([
    ['upload', 'gateway CPU s/GiB', 'MB/s (client)', 'each run (CPU s/GiB)'],
    [
      'direct (presigned PUT)',
      d.cpu.toFixed(3),
      d.mbps.toFixed(0),
      results.direct.cpu.map((x) => x.toFixed(3)).join(', '),
    ],
    [
      'proxy (through the gateway)',
      p.cpu.toFixed(3),
      p.mbps.toFixed(0),
      results.proxy.cpu.map((x) => x.toFixed(3)).join(', '),
    ],
  ]);
  const ratio = p.cpu === 0 ? Number.POSITIVE_INFINITY : d.cpu / p.cpu;
  console.log(
    `\ndirect / proxy gateway CPU: ${ratio.toFixed(4)} (target ≤ ${(1 / 50).toFixed(4)}: ${ratio <= 1 / 50 ? 'met' : 'NOT met'})`,
  );
  console.log(`proxy / direct MB/s: ${(p.mbps / d.mbps).toFixed(2)}`);
}
