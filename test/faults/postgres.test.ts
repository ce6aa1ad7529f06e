// Faults (issue 14): PostgreSQL crashes, loses its connections, turns read-only. A private server
// (helpers/postgres.ts: initdb + pg_ctl in a temporary directory, never the machine's shared one)
// under one `chute serve` and the embedded store (`chute s3`), each its own process. Under load:
// `pg_ctl stop -m immediate` (a crash: no checkpoint, recovery at the next start) and start again,
// twice, and pg_terminate_backend on every gateway connection. While the server is down the
// gateway answers 503 `unavailable` + Retry-After (never a 500), it reconnects by itself, and
// nothing acknowledged is lost. Then read-only (ALTER SYSTEM default_transaction_read_only +
// reload): writes answer 503, reads work, nothing is half-written, and it recovers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { halfWritten } from '../../packages/gateway/test/helpers/consistency.ts';
import { type GrantJson, upload } from '../../packages/gateway/test/helpers/e2e.ts';
import { newSecret, type Receiver, startReceiver } from '../../packages/gateway/test/helpers/receiver.ts';
import { runLoad, Tally, until } from './helpers/load.ts';
import { PrivatePostgres } from './helpers/postgres.ts';
import { assertClean, reportLine } from './helpers/report.ts';
import { CLAIM_TIMEOUT_MS, LIFETIME_MS, Stack, SWEEP_MS } from './helpers/stack.ts';
import { settle } from './helpers/verdict.ts';

const skip = process.env.CHUTE_FAULTS === '1' ? false : 'fault tests: run `npm run test:faults`';
const TOTAL = Number(process.env.FAULTS_FLOWS ?? 300);
const SETTLE_MS = LIFETIME_MS + CLAIM_TIMEOUT_MS + 5 * SWEEP_MS + 10_000;
const DB = 'chute';

describe('faults: PostgreSQL crash, terminated connections, read-only', { skip }, () => {
  let server: PrivatePostgres;
  let receiver: Receiver;
  let stack: Stack;

  before(async () => {
    server = await PrivatePostgres.create('faults');
    await server.sql(`CREATE DATABASE ${DB}`);
    const secret = newSecret();
    receiver = await startReceiver(secret);
    stack = await Stack.start({
      label: 'pg',
      databaseUrl: server.url(DB),
      gateways: 1,
      balancer: false,
      webhook: { url: receiver.url, secret },
    });
  });

  after(async () => {
    await stack?.close();
    await receiver?.close();
    await server?.destroy();
  });

  /** The test's own connection to the gateway's database (one per call: the server restarts). */
  async function query<T>(sql: string): Promise<T[]> {
    const c = new pg.Client({ connectionString: server.url(DB), connectionTimeoutMillis: 5000 });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  }

  async function call(path: string, token: string, json?: unknown): Promise<Response> {
    return fetch(`${stack.api}${path}`, {
      method: json === undefined && !path.endsWith('/complete') ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(json !== undefined && { 'content-type': 'application/json' }),
      },
      ...(json !== undefined && { body: JSON.stringify(json) }),
    });
  }

  /** A 503 with the registry's code and a Retry-After in seconds; returns a short description. */
  async function unavailable(res: Response, what: string): Promise<string> {
    const text = await res.text();
    assert.equal(res.status, 503, `${what}: ${res.status} ${text}`);
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'unavailable', what);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, `${what}: Retry-After`);
    return `${what} 503 unavailable retry-after=${res.headers.get('retry-after')}`;
  }

  const grantBody = (bytes: Buffer) => ({
    route: 'doc',
    filename: 'probe.txt',
    contentType: 'text/plain',
    size: bytes.length,
  });

  test('crash (pg_ctl stop -m immediate) twice and pg_terminate_backend under load: 503 while down, nothing acknowledged lost', async (t) => {
    const token = await stack.token('probe');
    const tally = new Tally();
    const load = runLoad(
      { api: stack.api, token: (u) => stack.token(u), total: TOTAL, concurrency: 8, users: 6, label: 'pg' },
      tally,
    );
    const acked = () => tally.acknowledged.length;
    const seen: string[] = [];
    const bytes = Buffer.from('probe\n');

    /** When each crash began and when the server was down (performance.now()). */
    const crashes: { start: number; end: number }[] = [];
    const crash = async () => {
      const start = performance.now();
      await server.crash();
      crashes.push({ start, end: performance.now() });
    };
    await until(() => acked() >= TOTAL * 0.2, 120_000, 'a fifth');
    await crash();
    // Down: the gateway says so, in the registry's words, and its health check fails.
    seen.push(await unavailable(await call('/v1/grants', token, grantBody(bytes)), 'grant while down'));
    const health = await fetch(`${stack.api}/healthz`);
    assert.equal(health.status, 503);
    await sleep(1500);
    await server.start();

    await until(() => acked() >= TOTAL * 0.45, 120_000, 'load after the restart');
    const cut = await server.terminateBackends(DB);
    seen.push(`pg_terminate_backend ended ${cut} connections`);

    await until(() => acked() >= TOTAL * 0.7, 120_000, 'load after the terminations');
    await crash();
    await sleep(500);
    await server.start();
    await load;

    const { settledMs, lost, hooks, broken } = await settle({
      stack,
      receiver,
      acks: tally.acknowledged,
      query,
      settleMs: SETTLE_MS,
    });
    reportLine('postgres-restart', tally, lost.length, {
      claimsHandedBack: stack.claimsHandedBack(),
      crashes: 2,
      terminated: cut,
      expired: tally.expired,
      grantsForgotten: tally.forgotten.length,
      webhooks: hooks.events,
      webhooksMissing: hooks.missing.length,
      settledMs: Math.round(settledMs),
    });
    t.diagnostic(seen.join('; '));
    assertClean(tally, lost);
    assert.deepEqual(broken, []);
    assert.ok(tally.unavailable > 0, 'the load met the outage as 503 unavailable');
    assert.deepEqual(hooks.missing, []);
    assert.equal(hooks.forged, 0);
    // A grant commits durably (db/grants.ts): one answered 201 survives a server crash, so no
    // complete may find its grant gone (a 404). Before, with asynchronous commits, 0–6 of 240
    // answered within ~2 s of a crash were forgotten.
    assert.deepEqual(tally.forgotten, [], 'grants answered 201 and gone after the crash');
    assert.equal(tally.acknowledged.length + tally.expired, TOTAL);
  });

  test('read-only (default_transaction_read_only): writes answer 503, reads work, nothing half-written; it recovers', async () => {
    const token = await stack.token('readonly');
    const bytes = Buffer.from('stored before the database turned read-only\n');
    const g = await call('/v1/grants', token, grantBody(bytes));
    assert.equal(g.status, 201);
    const pending = (await g.json()) as GrantJson;
    assert.equal((await upload(pending, bytes)).status, 200);
    const counts = async () =>
      (
        await query<{ u: string; a: string; e: string }>(
          'SELECT (SELECT count(*) FROM uploads) AS u, (SELECT count(*) FROM audit) AS a, (SELECT count(*) FROM events) AS e',
        )
      )[0];
    await server.sql('ALTER SYSTEM SET default_transaction_read_only = on');
    await server.sql('SELECT pg_reload_conf()');
    try {
      await until(
        async () => (await call('/v1/grants', token, grantBody(bytes))).status === 503,
        10_000,
        'the reload to reach the pool',
      );
      const unchanged = await counts();
      await unavailable(await call('/v1/grants', token, grantBody(bytes)), 'grant while read-only');
      await unavailable(await call(`/v1/uploads/${pending.id}/complete`, token), 'complete while read-only');
      assert.equal((await call(`/v1/uploads/${pending.id}`, token)).status, 200, 'reads still work');
      assert.deepEqual(await counts(), unchanged, 'a refused write left rows');
    } finally {
      await server.sql('ALTER SYSTEM RESET default_transaction_read_only');
      await server.sql('SELECT pg_reload_conf()');
    }
    await until(
      async () => (await call('/v1/grants', token, grantBody(bytes))).status === 201,
      10_000,
      'writes to work again',
    );
    const done = await call(`/v1/uploads/${pending.id}/complete`, token);
    assert.equal(done.status, 200);
    assert.equal(((await done.json()) as { state: string }).state, 'verified');
    assert.deepEqual(await halfWritten({ all: async <T>(sql: string) => query<T>(sql) }), []);
  });
});
