/**
 * POST /v1/grants (auth: HS256 JWT → route rule → quota check + insert in SQLite → sign a POST
 * policy) against a constant-JSON endpoint mounted on the same server stack (hono on
 * @hono/node-server, the same middleware: request id, metrics, access log), in the same run.
 * The server runs in a child process, the load generator (autocannon) here: 50 keep-alive
 * connections over loopback, each sending its next request when the last one answered.
 *
 * Targets (issue 5): grants ≥ 0.35× the constant endpoint's req/s, grants p99 ≤ 20 ms.
 * Bounded: BENCH_MS per phase (default 5000) after a 1.5 s warm-up, at most 500k requests.
 * Quotas are set high and the requests spread over 500 users: the bench measures the work of a
 * grant, not a 429. The logger is silent for both endpoints; tokens are reused, as clients do
 * (so JWT verification mostly hits the gateway's verified-token cache).
 * Closed loop: at 50 connections, latency ≈ 50 / throughput, so p99 ≤ 20 ms needs the grant
 * endpoint within reach of the constant one on the same core.
 *
 * Run: npx node bench/grants.ts   (BENCH_PG_URL=postgres://… for PostgreSQL; BENCH_NODE_ARGS for
 * the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createGateway, mintToken, parseConfig, route, silentLogger } from '@chute/gateway';
import autocannon from 'autocannon';
import pg from 'pg';
import { printTable } from './lib/table.ts';

const SECRET = 'bench-secret-bench-secret-bench-secret-00';
const CONNECTIONS = 50;
const USERS = 500;
const BUDGET_MS = Number(process.env['BENCH_MS'] ?? 5000);
const WARMUP_MS = 1500;
const MAX_REQUESTS = 500_000;
/** Tokens minted for the cold-auth row (it ends early if they run out). */
const FRESH_TOKENS = 20_000;

/**
 * BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test runs on PostgreSQL instead (a schema of its
 * own, dropped at the end); SQLite in a temp dir otherwise.
 */
const PG_URL = process.env['BENCH_PG_URL'];

if (process.argv[2] === '--serve') {
  const dir = mkdtempSync(join(tmpdir(), 'chute-bench-grants-'));
  const schema = `chute_bench_${process.pid}`;
  let admin: pg.Client | undefined;
  if (PG_URL !== undefined) {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  }
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    // Signing is pure: no storage request is made for a grant, so no store needs to run.
    storage: {
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'bench',
      accessKeyId: 'benchkey',
      secretAccessKey: 'benchsecret',
    },
    database: { url: PG_URL ?? `sqlite:${join(dir, 'chute.db')}` },
    auth: { jwt: { secret: SECRET } },
    quotas: { pendingGrants: 1_000_000, bytesPerDay: '1000TB', grantsPerMinute: 1_000_000 },
    routes: [
      route('logo')
        .types('image/png', 'image/jpeg')
        .maxSize('20MB')
        .image({ maxWidth: 4096, maxHeight: 4096 })
        .review(),
    ],
  });
  const gateway = await createGateway(config, {
    ...(admin !== undefined && { database: { schema } }),
    logger: silentLogger(),
    sweep: false,
    processMetrics: false,
  });
  const constant = { id: 'up_0000000000000000000000', ok: true };
  gateway.app.post('/bench/constant', async (c) => {
    await c.req.text();
    return c.json(constant, 201);
  });
  const { url } = await gateway.listen();
  // Event-loop delay: how long the server's one thread was blocked (sync SQLite, GC), as opposed
  // to requests queueing for CPU. Reported to the parent at exit.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  process.stdout.write(`listening on ${url}\n`);
  const stop = () => {
    eld.disable();
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    process.stdout.write(
      `server event-loop delay over the run: p50 ${ms(eld.percentile(50))} ms, p99 ${ms(eld.percentile(99))} ms, max ${ms(eld.max)} ms\n`,
    );
    gateway
      .close()
      .then(async () => {
        await admin?.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin?.end();
      })
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await main();
}

interface Result {
  requests: number;
  errors: number;
  seconds: number;
  latencies: Float64Array;
}

async function main() {
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (or --trace-gc …) for the server process.
  const profile = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...profile, new URL(import.meta.url).pathname, '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (process.env['BENCH_NODE_ARGS']) child.stdout!.pipe(process.stderr);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c) => {
        out += c;
        const m = /listening on (http:\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const tokens = await Promise.all(
      Array.from({ length: USERS }, (_, i) => mintToken({ user: `user${i}`, secret: SECRET, ttl: 3600 })),
    );
    const body = JSON.stringify({
      route: 'logo',
      filename: 'logo.png',
      contentType: 'image/png',
      size: 123_456,
    });
    const target = new URL(url);

    const run = (path: string, ms: number) => load(target, path, body, tokens, ms, true);
    // Warm both (JIT, statement cache, keep-alive sockets), then measure each; then again in the
    // other order, keeping each endpoint's better run (less noise from the other process).
    await run('/bench/constant', WARMUP_MS);
    await run('/v1/grants', WARMUP_MS);
    const constant1 = await run('/bench/constant', BUDGET_MS);
    const grants1 = await run('/v1/grants', BUDGET_MS);
    const grants2 = await run('/v1/grants', BUDGET_MS);
    const constant2 = await run('/bench/constant', BUDGET_MS);
    // Every request with a token never seen before: the JWT's HMAC is verified each time.
    const fresh = await Promise.all(
      Array.from({ length: FRESH_TOKENS }, (_, i) =>
        mintToken({ user: `user${i % USERS}`, secret: SECRET, ttl: 3600 + i }),
      ),
    );
    const cold = await load(target, '/v1/grants', body, fresh, BUDGET_MS, false);
    const best = (a: Result, b: Result) => (rate(a) >= rate(b) ? a : b);
    const constant = best(constant1, constant2);
    const grants = best(grants1, grants2);

    const rows = [
      ['endpoint', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'errors'],
      row('constant JSON (same stack)', constant),
      row('POST /v1/grants', grants),
      row('POST /v1/grants, a new token each', cold),
    ];
    printTable(rows);
    const ratio = rate(grants) / rate(constant);
    const p99 = percentile(grants.latencies, 0.99);
    console.log(
      `\ngrants / constant = ${ratio.toFixed(2)}× (target ≥ 0.35×: ${ratio >= 0.35 ? 'met' : 'NOT met'}); ` +
        `grants p99 = ${p99.toFixed(1)} ms (target ≤ 20 ms: ${p99 <= 20 ? 'met' : 'NOT met'})`,
    );
    console.log(
      `${CONNECTIONS} connections, ${USERS} users, ${BUDGET_MS} ms per phase, node ${process.version}, ${PG_URL === undefined ? 'SQLite' : 'PostgreSQL'}`,
    );
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let tail = '';
    child.stdout!.on('data', (c) => {
      tail += c;
    });
    child.kill('SIGTERM');
    await exited;
    const line = /server event-loop delay.*/.exec(tail)?.[0];
    if (line) console.log(line);
  }
}

/**
 * autocannon drives the connections (raw sockets, requests serialised once, responses parsed by
 * a small parser): node's http.Agent cost ~3× more CPU per request, and client and server share
 * this machine's two cores, so the server's figures were partly the client's. Every request takes
 * the next token from one counter shared by all connections (so a phase spreads over all users).
 * Latencies are taken per response from autocannon's own timer (hrtime, fractional ms).
 */
async function load(
  target: URL,
  path: string,
  body: string,
  tokens: string[],
  ms: number,
  cycle: boolean,
): Promise<Result> {
  const latencies = new Float64Array(MAX_REQUESTS);
  let n = 0;
  let errors = 0;
  let t = 0;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.origin,
        connections: CONNECTIONS,
        // A fresh-token phase ends when its tokens run out or its time does, whichever is first.
        ...(cycle ? { duration: ms / 1000 } : { amount: Math.min(tokens.length, MAX_REQUESTS) }),
        requests: [
          {
            method: 'POST',
            path,
            body,
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({
              ...req,
              headers: { ...req.headers, authorization: `Bearer ${tokens[t++ % tokens.length]}` },
            }),
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, latencyMs) => {
      if (status !== 201) errors++;
      if (n < MAX_REQUESTS) latencies[n++] = latencyMs;
    });
    if (!cycle) timer = setTimeout(() => instance.stop(), ms);
  });
  clearTimeout(timer);
  return {
    requests: n,
    errors: errors + result.errors + result.timeouts,
    seconds: (performance.now() - started) / 1000,
    latencies: latencies.slice(0, n),
  };
}

function rate(r: Result): number {
  return r.requests / r.seconds;
}

function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function row(name: string, r: Result): string[] {
  return [
    name,
    rate(r).toFixed(0),
    percentile(r.latencies, 0.5).toFixed(2),
    percentile(r.latencies, 0.99).toFixed(2),
    percentile(r.latencies, 1).toFixed(2),
    String(r.requests),
    String(r.errors),
  ];
}
