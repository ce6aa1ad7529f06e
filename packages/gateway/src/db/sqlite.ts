import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Driver, Executor, SqlValue } from './driver.ts';

const STATEMENT_CACHE_MAX = 256;

/** One open database file: its connection, statement cache and queue, shared in this process. */
interface Connection {
  db: DatabaseSync;
  statements: Map<string, StatementSync>;
  queue: Promise<unknown>;
  refs: number;
}

/**
 * Connections by resolved path. Two connections to one file in one process would deadlock: the
 * second's BEGIN IMMEDIATE blocks the thread in busy_timeout while the first, holding the lock,
 * waits for that same thread to run its next statement. So every open of a file in this process
 * shares one connection (and its queue).
 */
const connections = new Map<string, Connection>();

/**
 * SQLite through node:sqlite. The connection is synchronous but transactions are not (the
 * callback awaits), so two requests could interleave statements inside one BEGIN on the same
 * connection. Every use of the connection is therefore queued: one transaction or statement at a
 * time in this process; BEGIN IMMEDIATE plus busy_timeout serialises writers across processes.
 */
export class SqliteDriver implements Driver {
  readonly dialect = 'sqlite';
  readonly #key: string;
  readonly #conn: Connection;
  #closed = false;

  private constructor(key: string, conn: Connection) {
    this.#key = key;
    this.#conn = conn;
  }

  /** `path` is a file (its directory is created) or `:memory:` (never shared). */
  static async open(path: string): Promise<SqliteDriver> {
    const key = path === ':memory:' ? `:memory:${Math.random()}` : resolve(path);
    let conn = connections.get(key);
    if (conn === undefined) {
      if (path !== ':memory:') mkdirSync(dirname(key), { recursive: true });
      const db = new DatabaseSync(path === ':memory:' ? path : key, { timeout: 5000 });
      // WAL: readers do not block the writer; NORMAL sync is durable across app crashes in WAL mode.
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
      conn = { db, statements: new Map(), queue: Promise.resolve(), refs: 0 };
      connections.set(key, conn);
    }
    conn.refs++;
    return new SqliteDriver(key, conn);
  }

  get #db(): DatabaseSync {
    if (this.#closed) throw new Error('database is closed');
    return this.#conn.db;
  }

  #serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.#conn.queue.then(fn);
    this.#conn.queue = run.catch(() => {});
    return run;
  }

  #prepare(sql: string): StatementSync {
    const cache = this.#conn.statements;
    let s = cache.get(sql);
    if (s === undefined) {
      if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
      s = this.#db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  }

  #all<T>(sql: string, params: readonly SqlValue[]): T[] {
    return this.#prepare(sql).all(...params) as T[];
  }

  #run(sql: string, params: readonly SqlValue[]): number {
    return Number(this.#prepare(sql).run(...params).changes);
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#serial(() => this.#all<T>(sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#serial(() => this.#run(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.#serial(() => this.#db.exec(sql));
  }

  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      let open = true;
      // A callback that kept `tx` and used it after the transaction would write outside it.
      const guard = () => {
        if (!open) throw new Error('transaction already finished');
      };
      const tx: Executor = {
        all: async <R>(sql: string, params: readonly SqlValue[] = []) => {
          guard();
          return this.#all<R>(sql, params);
        },
        run: async (sql, params = []) => {
          guard();
          return this.#run(sql, params);
        },
        exec: async (sql) => {
          guard();
          this.#db.exec(sql);
        },
      };
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        this.#db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw e;
      } finally {
        open = false;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#serial(() => {
      this.#closed = true;
      if (--this.#conn.refs > 0) return;
      connections.delete(this.#key);
      this.#conn.statements.clear();
      this.#conn.db.close();
    });
  }
}
