/**
 * The one interface the query layer talks to; SQLite and PostgreSQL implement it. SQL is written
 * once, with `?` placeholders (translated for PostgreSQL in postgres.ts), in the common subset of
 * both dialects: TEXT/BIGINT/INTEGER columns, ON CONFLICT … DO UPDATE, UPDATE … RETURNING.
 */
export type SqlValue = string | number | null;

export interface Executor {
  /** Rows of a SELECT (or of a statement with RETURNING), column names as in the SQL. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface Driver extends Executor {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in a transaction that serialises writers: committed when `fn` resolves, rolled back
   * when it throws. Inside `fn`, use only `tx`: the driver itself would wait for this transaction.
   */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  /**
   * How many write transactions are worth running at once: 1 where the engine has a single
   * writer (SQLite), more where transactions of different rows proceed side by side (PostgreSQL).
   */
  readonly writers: number;
  /**
   * Takes the named lock for the rest of `tx`, waiting for it; released by COMMIT or ROLLBACK, and
   * by the connection closing if the process dies. PostgreSQL: a transaction-scoped advisory lock,
   * per schema. SQLite: the write transaction already excludes every other writer.
   */
  lock(tx: Executor, name: string): Promise<void>;
  /**
   * Runs `fn` only while holding the named lock, without waiting for it: resolves to false, not
   * running `fn`, when another instance holds it. `fn` uses the driver, not a transaction.
   * PostgreSQL: lock() in a transaction of its own that lasts as long as `fn`. SQLite: a database
   * file belongs to one process, so there is no other instance to exclude, and a transaction held
   * open would block `fn`'s own statements behind it.
   */
  exclusive(name: string, fn: () => Promise<void>): Promise<boolean>;
  /**
   * SQLite only: state kept with the connection, made by `make` on first ask and shared by every
   * driver on that connection (one per file and process), so that all writers in this process
   * see it. PostgreSQL has no such single writer and does not offer it.
   */
  shared?<T>(key: string, make: () => T): T;
  close(): Promise<void>;
}
