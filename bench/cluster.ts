/**
 * Grants req/s with 1, 2 and 3 gateway instances behind a balancer, side by side, with the
 * scaling ratio (N instances / 1) and, as the peer, the constant-JSON endpoint of the same
 * instances through the same balancer in the same run (so each row also says how close grants
 * come to what the stack and the balancer can carry at all).
 *
 * The pieces, started here and stopped at the end, all on 127.0.0.1:
 * - 3 gateways (bench/lib/grant-server.ts, the config of bench:grants) on one PostgreSQL schema
 *   of their own (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test), started once;
 * - HAProxy (Debian's), restarted for each row with the first N instances as its servers,
 *   round-robin per request over kept-alive server connections (`http-reuse always`), adding
 *   `x-chute-instance` to each answer; before each row the answers to 3N requests are counted
 *   per instance, so the table shows the load really spread;
 * - the load: autocannon, 50 keep-alive connections to the balancer, 500 users.
 * Per row: a warm-up of each endpoint, then constant, grants, grants, constant (BENCH_MS each,
 * default 4000), keeping each endpoint's better run. Bounded: about 70 s in all at the default.
 *
 * Client, balancer, gateways and PostgreSQL share one machine (its cores are printed), so more
 * instances add CPU contention as much as capacity: on 2 cores, 3 instances cannot scale
 * linearly, and the ratio is what it is there. On a machine with a core per process it measures
 * how far the database lets grants scale out.
 *
 * Run: npm run bench:cluster   (BENCH_PG_URL, BENCH_MS as above)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '@chute/gateway';
import pg from 'pg';
import { BENCH_SECRET, GRANT_BODY } from './lib/grant-server.ts';
import {
  constantAndGrants,
  load,
  percentile,
  type Result,
  rate,
  type Server,
  startServer,
} from './lib/load.ts';
import { printTable } from './lib/table.ts';

const PG_URL = process.env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const BUDGET_MS = Number(process.env['BENCH_MS'] ?? 4000);
const WARMUP_MS = 1000;
const CONNECTIONS = 50;
const USERS = 500;
const SIZES = [1, 2, 3];

const dir = mkdtempSync(join(tmpdir(), 'chute-bench-cluster-'));
const schema = `chute_bench_cluster_${process.pid}`;
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const servers: Server[] = [];
try {
  // One at a time: each brings the schema up to date on start (the others would wait on the lock).
  for (const _ of SIZES) servers.push(await startServer({ database: PG_URL, schema, port: 0 }));
  await main();
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}

interface RowResult {
  size: number;
  constant: Result;
  grants: Result;
  spread: string;
}

async function main(): Promise<void> {
  const tokens = await Promise.all(
    Array.from({ length: USERS }, (_, i) => mintToken({ user: `user${i}`, secret: BENCH_SECRET, ttl: 3600 })),
  );
  const results: RowResult[] = [];
  for (const size of SIZES) {
    const balancer = await startBalancer(servers.slice(0, size));
    try {
      const target = new URL(balancer.url);
      const spread = await countInstances(target, tokens[0]!, 3 * size);
      const run = (path: string, ms: number) =>
        load({ target, path, body: GRANT_BODY, tokens, ms, connections: CONNECTIONS, cycle: true });
      results.push({ size, ...(await constantAndGrants(run, WARMUP_MS, BUDGET_MS)), spread });
    } finally {
      await balancer.stop();
    }
  }

  const one = rate(results[0]!.grants);
  const oneConstant = rate(results[0]!.constant);
  printTable([
    [
      'instances',
      'grants req/s',
      'grants p99 ms',
      'grants / 1 instance',
      'constant req/s',
      'constant / 1 instance',
      'grants / constant',
      'errors',
      'answers per instance',
    ],
    ...results.map((r) => [
      String(r.size),
      rate(r.grants).toFixed(0),
      percentile(r.grants.latencies, 0.99).toFixed(1),
      `${(rate(r.grants) / one).toFixed(2)}×`,
      rate(r.constant).toFixed(0),
      `${(rate(r.constant) / oneConstant).toFixed(2)}×`,
      `${(rate(r.grants) / rate(r.constant)).toFixed(2)}×`,
      String(r.grants.errors + r.constant.errors),
      r.spread,
    ]),
  ]);
  const ratio = (n: number) => (rate(results[n - 1]!.grants) / one).toFixed(2);
  console.log(`\nscaling: 2/1 = ${ratio(2)}×, 3/1 = ${ratio(3)}× (grants req/s through the balancer)`);
  console.log(
    `${CONNECTIONS} connections, ${USERS} users, ${BUDGET_MS} ms per phase, HAProxy round-robin, PostgreSQL, ` +
      `node ${process.version}, ${availableParallelism()} cores shared by client, balancer, gateways and database`,
  );
}

/** HAProxy in the foreground (-db) as our child, with these instances as its servers. */
async function startBalancer(instances: readonly Server[]): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const config = join(dir, `haproxy-${instances.length}.cfg`);
  writeFileSync(
    config,
    `global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  # every request is balanced on its own and may go out over any idle connection to its server
  http-reuse always

frontend bench
  bind 127.0.0.1:${port}
  default_backend gateways

backend gateways
  balance roundrobin
  http-response set-header x-chute-instance %s
${instances.map((s, i) => `  server gw${i + 1} ${new URL(s.url).host}`).join('\n')}
`,
  );
  const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (e) => {
    console.error(`haproxy did not start (Debian: apt-get install haproxy): ${e.message}`);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, stop };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`the balancer did not answer on ${url}`);
}

/** "gw1 2, gw2 2": how many of `n` grants each instance answered. */
async function countInstances(target: URL, token: string, n: number): Promise<string> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const res = await fetch(new URL('/v1/grants', target), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: GRANT_BODY,
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`grant through the balancer: ${res.status}`);
    const by = res.headers.get('x-chute-instance') ?? '?';
    counts.set(by, (counts.get(by) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
