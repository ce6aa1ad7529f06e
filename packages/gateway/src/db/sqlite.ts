import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { Driver, Executor, SqlValue } from './driver.ts';
import { databaseError } from './unavailable.ts';

const STATEMENT_CACHE_MAX = 256;

/** One open database file: its connection, statement cache and queue, shared in this process. */
interface Connection {
  db: DatabaseSync;
  statements: Map<string, StatementSync>;
  queue: Promise<unknown>;
  refs: number;
  /** What `shared()` handed out, by key. */
  shared: Map<string, unknown>;
  /** Runs WAL checkpoints on its own thread and connection (files only). */
  checkpointer: Checkpointer | undefined;
}

/**
 * WAL checkpoints copy the log back into the database file and fsync it: 10–50 ms on a slow
 * disk. SQLite runs them inside the COMMIT that crosses `wal_autocheckpoint` pages — with
 * node:sqlite that is on the event loop, stalling every request for that long (the grants
 * benchmark's p99). So a worker thread, with a connection of its own, checkpoints (PASSIVE: never
 * waits for, nor blocks, the writer) every CHECKPOINT_MS, and the main connection's automatic
 * checkpoint is pushed out to a fallback of 10,000 pages (~40 MB of WAL) should the worker stall.
 *
 * Every 100 ms, not every second: under load (the grants benchmark: an estimated ~100 pages of WAL
 * per group commit, 150 commits/s) the WAL passed the 10,000 pages within 0.6 s, so the fallback fired on
 * the event loop anyway (COMMITs of 20–40 ms, measured). A PASSIVE checkpoint of an empty WAL
 * costs next to nothing. What stays on the event loop is the WAL header's fsync when the writer
 * restarts the log after a checkpoint ("Otherwise an out-of-order write following a WAL restart
 * could result in database corruption", sqlite3WalFrames), and WAL writes that wait while the
 * checkpointer's fsync runs: commits of 5–17 ms, about once a second under that load.
 */
const CHECKPOINT_MS = 100;
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { timeout: 0 });
const timer = setInterval(() => {
  try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

interface Checkpointer {
  worker: Worker;
  /** Resolves when the thread has ended (asked to, or crashed). */
  exited: Promise<unknown>;
}

function startCheckpointer(path: string): Checkpointer {
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { path, intervalMs: CHECKPOINT_MS } });
  worker.on('error', () => {}); // the fallback autocheckpoint keeps the WAL bounded
  worker.unref();
  return { worker, exited: new Promise((resolve) => worker.once('exit', resolve)) };
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
  readonly writers = 1;
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
      const file = path !== ':memory:';
      if (file) db.exec('PRAGMA wal_autocheckpoint = 10000;');
      conn = {
        db,
        statements: new Map(),
        queue: Promise.resolve(),
        refs: 0,
        shared: new Map(),
        checkpointer: file ? startCheckpointer(key) : undefined,
      };
      connections.set(key, conn);
    }
    conn.refs++;
    return new SqliteDriver(key, conn);
  }

  get #db(): DatabaseSync {
    if (this.#closed) throw new Error('database is closed');
    return this.#conn.db;
  }

  /** Every use of the connection, in turn; a full disk or a read-only file becomes a 503 to retry. */
  #serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.#conn.queue.then(fn);
    this.#conn.queue = run.catch(() => {});
    return run.catch((e: unknown) => {
      throw databaseError(e);
    });
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

  // One writer at a time holds the whole database (BEGIN IMMEDIATE): every lock is already held.
  async lock(): Promise<void> {}

  async exclusive(_name: string, fn: () => Promise<void>): Promise<boolean> {
    await fn();
    return true;
  }

  shared<T>(key: string, make: () => T): T {
    let value = this.#conn.shared.get(key) as T | undefined;
    if (value === undefined) {
      value = make();
      this.#conn.shared.set(key, value);
    }
    return value;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const last = await this.#serial(() => {
      this.#closed = true;
      if (--this.#conn.refs > 0) return false;
      connections.delete(this.#key);
      this.#conn.statements.clear();
      this.#conn.db.close();
      return true;
    });
    const checkpointer = this.#conn.checkpointer;
    if (last && checkpointer !== undefined) {
      // Unref'd while it runs so it never keeps a process alive; ref'd now, or an otherwise idle
      // process would exit before the thread's 'exit' arrives, leaving this close() unsettled.
      checkpointer.worker.ref();
      checkpointer.worker.postMessage('stop');
      await checkpointer.exited;
    }
  }
}
