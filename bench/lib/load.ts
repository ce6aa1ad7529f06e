/**
 * What the grant benchmarks share: a grant server in a child process (grant-server.ts) and a
 * closed-loop load of POSTs driven by autocannon, with the figures each table row prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import autocannon from 'autocannon';
import type { GrantServerOptions } from './grant-server.ts';

/** A request stops being recorded past this many (the latency array is allocated up front). */
export const MAX_REQUESTS = 500_000;

export interface Result {
  requests: number;
  errors: number;
  seconds: number;
  latencies: Float64Array;
}

export interface Server {
  url: string;
  child: ChildProcess;
  /** SIGTERM, wait for the exit; resolves to the server's event-loop delay line. */
  stop(): Promise<string | undefined>;
}

/**
 * Starts grant-server.ts in a child process and waits for its `listening on` line.
 * `nodeArgs`: for the child's node, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"].
 */
export async function startServer(options: GrantServerOptions, nodeArgs: string[] = []): Promise<Server> {
  const script = new URL('./grant-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [...nodeArgs, script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c) => {
    out += c;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`grant server exited ${code}`)));
  });
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      return /server event-loop delay.*/.exec(out)?.[0];
    },
  };
}

/**
 * autocannon drives the connections (raw sockets, requests serialised once, responses parsed by
 * a small parser): node's http.Agent cost ~3× more CPU per request, and client and server share
 * this machine's cores, so the server's figures were partly the client's. Every request takes
 * the next token from one counter shared by all connections (so a phase spreads over all users).
 * Latencies are taken per response from autocannon's own timer (hrtime, fractional ms).
 * `cycle`: reuse the tokens for `ms`; otherwise each token once, ending early when they run out.
 */
export async function load(options: {
  target: URL;
  path: string;
  body: string;
  tokens: readonly string[];
  ms: number;
  connections: number;
  cycle: boolean;
}): Promise<Result> {
  const { target, path, body, tokens, ms, connections, cycle } = options;
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
        connections,
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

export function rate(r: Result): number {
  return r.requests / r.seconds;
}

export function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** Of two runs of one endpoint, the faster (less noise from whatever else ran meanwhile). */
export function best(a: Result, b: Result): Result {
  return rate(a) >= rate(b) ? a : b;
}

/**
 * The grant benches' measurement: both endpoints warmed (JIT, statement cache, keep-alive
 * sockets), then constant, grants, grants, constant, keeping each endpoint's better run (less
 * noise from whatever else ran meanwhile). `run` loads one path for that many ms.
 */
export async function constantAndGrants(
  run: (path: string, ms: number) => Promise<Result>,
  warmupMs: number,
  budgetMs: number,
): Promise<{ constant: Result; grants: Result }> {
  await run('/bench/constant', warmupMs);
  await run('/v1/grants', warmupMs);
  const constant1 = await run('/bench/constant', budgetMs);
  const grants1 = await run('/v1/grants', budgetMs);
  const grants2 = await run('/v1/grants', budgetMs);
  const constant2 = await run('/bench/constant', budgetMs);
  return { constant: best(constant1, constant2), grants: best(grants1, grants2) };
}
