import pg from 'pg';
import type { Driver, Executor, SqlValue } from './driver.ts';
import { toPgPlaceholders } from './placeholders.ts';

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

  static #executor(client: pg.Pool | pg.PoolClient): Executor {
    return {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
        (await client.query(toPgPlaceholders(sql), params as SqlValue[])).rows as T[],
      run: async (sql: string, params: readonly SqlValue[] = []) =>
        (await client.query(toPgPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
      exec: async (sql: string) => {
        await client.query(sql);
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
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(PostgresDriver.#executor(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable; destroy it rather than return it to the pool
      }
      throw e;
    } finally {
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

  async relaxDurability(tx: Executor): Promise<void> {
    await tx.exec('SET LOCAL synchronous_commit = off');
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
