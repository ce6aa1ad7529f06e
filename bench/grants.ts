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
 * The server is bench/lib/grant-server.ts (the config both grant benches use); the load is
 * bench/lib/load.ts.
 *
 * Run: npx node bench/grants.ts   (BENCH_PG_URL=postgres://… for PostgreSQL; BENCH_NODE_ARGS for
 * the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '@chute/gateway';
import pg from 'pg';
import { BENCH_SECRET, GRANT_BODY } from './lib/grant-server.ts';
import { constantAndGrants, load, percentile, type Result, rate, startServer } from './lib/load.ts';
import { printTable } from './lib/table.ts';

const CONNECTIONS = 50;
const USERS = 500;
const BUDGET_MS = Number(process.env['BENCH_MS'] ?? 5000);
const WARMUP_MS = 1500;
/** Tokens minted for the cold-auth row (it ends early if they run out). */
const FRESH_TOKENS = 20_000;

/**
 * BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test runs on PostgreSQL instead (a schema of its
 * own, dropped at the end); SQLite in a temp dir otherwise.
 */
const PG_URL = process.env['BENCH_PG_URL'];

const dir = mkdtempSync(join(tmpdir(), 'chute-bench-grants-'));
const schema = `chute_bench_${process.pid}`;
let admin: pg.Client | undefined;
if (PG_URL !== undefined) {
  admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
}
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (or --trace-gc …) for the server process.
const profile = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const server = await startServer(
  {
    database: PG_URL ?? `sqlite:${join(dir, 'chute.db')}`,
    ...(admin !== undefined && { schema }),
    port: 0,
  },
  profile,
);
try {
  await main(new URL(server.url));
} finally {
  const line = await server.stop();
  if (line) console.log(line);
  await admin?.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
}

async function main(target: URL) {
  const tokens = await Promise.all(
    Array.from({ length: USERS }, (_, i) => mintToken({ user: `user${i}`, secret: BENCH_SECRET, ttl: 3600 })),
  );
  const run = (path: string, ms: number, toks = tokens, cycle = true) =>
    load({ target, path, body: GRANT_BODY, tokens: toks, ms, connections: CONNECTIONS, cycle });
  const { constant, grants } = await constantAndGrants(run, WARMUP_MS, BUDGET_MS);
  // Every request with a token never seen before: the JWT's HMAC is verified each time.
  const fresh = await Promise.all(
    Array.from({ length: FRESH_TOKENS }, (_, i) =>
      mintToken({ user: `user${i % USERS}`, secret: BENCH_SECRET, ttl: 3600 + i }),
    ),
  );
  const cold = await run('/v1/grants', BUDGET_MS, fresh, false);

  printTable([
    ['endpoint', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'errors'],
    row('constant JSON (same stack)', constant),
    row('POST /v1/grants', grants),
    row('POST /v1/grants, a new token each', cold),
  ]);
  const ratio = rate(grants) / rate(constant);
  const p99 = percentile(grants.latencies, 0.99);
  console.log(
    `\ngrants / constant = ${ratio.toFixed(2)}× (target ≥ 0.35×: ${ratio >= 0.35 ? 'met' : 'NOT met'}); ` +
      `grants p99 = ${p99.toFixed(1)} ms (target ≤ 20 ms: ${p99 <= 20 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `${CONNECTIONS} connections, ${USERS} users, ${BUDGET_MS} ms per phase, node ${process.version}, ${PG_URL === undefined ? 'SQLite' : 'PostgreSQL'}`,
  );
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
