import pg from 'pg';
import type { Driver, Executor, SqlValue } from './driver.ts';
import { toPgPlaceholders } from './placeholders.ts';
import { databaseError } from './unavailable.ts';

const INT8_OID = 20;

/**
 * Times are epoch milliseconds in BIGINT columns. pg returns int8 as a string (it may exceed
 * 2^53); ours never do, so they are parsed as numbers, for this pool only.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const CONNECT_TIMEOUT_MS = 10_000;

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  /** Use this schema (search_path) instead of `public`; it must exist. Tests use one per run. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
}

/**
 * PostgreSQL through a pg Pool. Statements outside a transaction use any pooled connection;
 * a transaction holds one connection from BEGIN to COMMIT/ROLLBACK.
 */
export class PostgresDriver implements Driver {
  readonly dialect = 'postgres';
  /**
   * Write transactions worth running at once: a batch spends most of its time waiting on round
   * trips, and batches of different users do not wait for each other.
   */
  readonly writers = 3;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresDriver> {
    if (options.schema !== undefined && !SCHEMA.test(options.schema))
      throw new TypeError('invalid schema name');
    const pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      // A server that does not answer (a host gone, a full backlog) fails the request with a 503
      // after this long instead of holding it until the OS gives up on the connect (minutes).
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A peer that vanished without a FIN (a host crash) is noticed on an idle connection too.
      keepAlive: true,
      types,
      ...(options.schema !== undefined && { options: `-c search_path=${options.schema}` }),
    });
    // An idle client's error (the server restarted) must not crash the process; the pool drops it.
    pool.on('error', () => {});
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresDriver(pool);
  }

  /** A statement's result, or (server down, restarting, read-only, full) a 503 to retry. */
  static async #query(client: pg.Pool | pg.PoolClient, sql: string, params?: SqlValue[]) {
    try {
      return await client.query(sql, params);
    } catch (e) {
      throw databaseError(e);
    }
  }

  static #executor(client: pg.Pool | pg.PoolClient): Executor {
    return {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
        (await PostgresDriver.#query(client, toPgPlaceholders(sql), params as SqlValue[])).rows as T[],
      run: async (sql: string, params: readonly SqlValue[] = []) =>
        (await PostgresDriver.#query(client, toPgPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
      exec: async (sql: string) => {
        await PostgresDriver.#query(client, sql);
      },
    };
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return PostgresDriver.#executor(this.#pool).all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return PostgresDriver.#executor(this.#pool).run(sql, params);
  }

  exec(sql: string): Promise<void> {
    return PostgresDriver.#executor(this.#pool).exec(sql);
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw databaseError(e); // the server is down or restarting: a fresh connect next time
    }
    let broken = false;
    // A checked-out client has no listener of the pool's: the server going away while this
    // transaction waits between statements (exclusive() holds one open for a whole sweep) emitted
    // an unhandled 'error' and killed the process (found by test/faults, pg_ctl stop -m immediate).
    // The next statement on it fails on its own; the client is destroyed, never pooled again.
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    try {
      await PostgresDriver.#query(client, 'BEGIN');
      const result = await fn(PostgresDriver.#executor(client));
      await PostgresDriver.#query(client, 'COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable; destroy it rather than return it to the pool
      }
      throw e;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  // Per schema, so test runs (and tenants) in one database never exclude each other.
  async lock(tx: Executor, name: string): Promise<void> {
    await tx.all("SELECT pg_advisory_xact_lock(hashtext('chute.' || ? || '.' || current_schema()))", [name]);
  }

  exclusive(name: string, fn: () => Promise<void>): Promise<boolean> {
    return this.transaction(async (tx) => {
      const [row] = await tx.all<{ locked: boolean }>(
        "SELECT pg_try_advisory_xact_lock(hashtext('chute.' || ? || '.' || current_schema())) AS locked",
        [name],
      );
      if (row?.locked !== true) return false;
      await fn();
      return true;
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
