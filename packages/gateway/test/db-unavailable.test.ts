// Which database failures become 503 `unavailable` (retry later) and which stay errors (a 500 with
// the cause logged): db/unavailable.ts. The PostgreSQL part against the real test server: a
// connection the server ends mid-transaction fails that transaction with a 503, never the process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isChuteError } from '@chute/errors';
import pg from 'pg';
import { PostgresDriver } from '../src/db/postgres.ts';
import { databaseError } from '../src/db/unavailable.ts';
import { type Engine, PG_URL, postgresEngine } from './helpers/engines.ts';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
const sqliteError = (errcode: number) =>
  Object.assign(new Error(`sqlite ${errcode}`), { code: 'ERR_SQLITE_ERROR', errcode });
const isUnavailable = (e: unknown) =>
  isChuteError(e) && e.code === 'unavailable' && e.retryAfter !== undefined;

test('down, restarting, read-only or full: unavailable with a Retry-After', () => {
  const down = [
    pgError('08006'), // connection_failure
    pgError('08001'), // sqlclient_unable_to_establish_sqlconnection
    pgError('57P01'), // admin_shutdown: pg_terminate_backend, a fast shutdown
    pgError('57P02'), // crash_shutdown
    pgError('57P03'), // cannot_connect_now: starting up, recovering
    pgError('53100'), // disk_full
    pgError('53300'), // too_many_connections
    pgError('58030'), // io_error
    pgError('25006'), // read_only_sql_transaction
    pgError('ECONNREFUSED'),
    pgError('ECONNRESET'),
    new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], 'connect'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    sqliteError(13), // SQLITE_FULL
    sqliteError(8), // SQLITE_READONLY
    sqliteError(8 | (1 << 8)), // SQLITE_READONLY_RECOVERY: extended codes keep the primary in the low byte
    sqliteError(5), // SQLITE_BUSY
    sqliteError(10 | (3 << 8)), // SQLITE_IOERR_WRITE
  ];
  for (const e of down) assert.ok(isUnavailable(databaseError(e)), (e as Error).message);
});

test('everything else stays the error it was (a bug or a constraint is not "retry later")', () => {
  const others = [
    pgError('23505'), // unique_violation
    pgError('42P01'), // undefined_table
    pgError('40001'), // serialization_failure: the code retries those where it expects them
    pgError('57014'), // query_canceled
    sqliteError(19), // SQLITE_CONSTRAINT
    sqliteError(1), // SQLITE_ERROR
    new TypeError('x is undefined'),
    'a string',
    null,
  ];
  for (const e of others) assert.equal(databaseError(e), e);
});

describe('PostgreSQL: the server ends connections', () => {
  let engine: Engine;
  let driver: PostgresDriver;
  let admin: pg.Client;

  before(async () => {
    engine = await postgresEngine();
    if (engine.skip !== undefined) return;
    driver = await PostgresDriver.open(engine.url, { ...engine.options, max: 3 });
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });

  after(async () => {
    if (engine.skip !== undefined) return engine.cleanup();
    await driver.close();
    await admin.end();
    await engine.cleanup();
  });

  test('a transaction whose connection is terminated between statements: 503, the process lives, the pool reconnects', async (t) => {
    if (engine.skip !== undefined) return t.skip(engine.skip);
    // Regression: a checked-out client had no 'error' listener, so the server's FATAL arriving
    // while the transaction waited (as exclusive() does for a whole sweep) crashed the process.
    await assert.rejects(
      driver.transaction(async (tx) => {
        const [row] = await tx.all<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [row!.pid]);
        await sleep(300); // the FATAL arrives while no statement runs
        await tx.all('SELECT 1');
      }),
      isUnavailable,
    );
    assert.deepEqual(await driver.all('SELECT 1 AS one'), [{ one: 1 }]);
  });

  test('idle pooled connections terminated: the next statements get fresh ones', async (t) => {
    if (engine.skip !== undefined) return t.skip(engine.skip);
    await Promise.all([1, 2, 3].map(() => driver.all('SELECT pg_sleep(0.01)')));
    const pids = await driver.all<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = '' AND pid = ANY($1)`,
      [pids.map((p) => p.pid)],
    );
    await sleep(300);
    for (let i = 0; i < 5; i++) assert.deepEqual(await driver.all('SELECT 1 AS one'), [{ one: 1 }]);
  });
});
