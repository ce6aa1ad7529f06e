import { ChuteError, isChuteError } from '@chute/errors';

/**
 * Seconds a client is told to wait when the database cannot take a statement now. Short: a
 * restarted PostgreSQL takes connections again within seconds, and the pool reconnects by itself
 * (every statement asks the pool for a live connection; a broken one is dropped, never reused).
 */
const RETRY_AFTER_SEC = 2;

/**
 * SQLSTATEs meaning "the database is not taking this now; the same statement later may pass"
 * (PostgreSQL, Appendix A): class 08 connection exception; 53 insufficient resources (53100
 * disk_full, 53300 too_many_connections); 57P01 admin_shutdown (pg_terminate_backend, a fast
 * shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down);
 * 58 system error (58030 io_error); 25006 read_only_sql_transaction (a read-only database or
 * a standby).
 */
const PG_STATE = /^(08|53|57P0[1-3]|58)|^25006$/;

/** No answer from the server at all: refused, reset, cut, or the name does not resolve. */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** pg's own errors for a connection that died under it (they carry no SQLSTATE). */
const PG_CONNECTION_LOST =
  /^Connection terminated|not queryable|timeout exceeded when trying to connect|Connection refused/;

/**
 * SQLite result codes (the primary code: the low byte of the extended one) meaning the file
 * cannot take a write now: SQLITE_BUSY (another process held the lock past busy_timeout),
 * SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL (disk full or max_page_count reached),
 * SQLITE_CANTOPEN. Statements that fail so have changed nothing: SQLite rolls the statement back,
 * and the driver rolls back the transaction around it.
 */
const SQLITE_CODES = new Set([5, 8, 10, 13, 14]);

function databaseDown(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, errcode, message } = e as { code?: unknown; errcode?: unknown; message?: unknown };
  if (code === 'ERR_SQLITE_ERROR') return typeof errcode === 'number' && SQLITE_CODES.has(errcode & 0xff);
  if (typeof code === 'string' && (PG_STATE.test(code) || NETWORK.has(code))) return true;
  if (e instanceof AggregateError) return e.errors.some(databaseDown); // a refused dual-stack connect
  return typeof message === 'string' && PG_CONNECTION_LOST.test(message);
}

/**
 * The error a driver throws: `unavailable` (503 + Retry-After, docs/errors.md) when the database
 * is down, restarting, read-only or full — the client's request changed nothing and may simply be
 * retried — and the error itself otherwise (a bug, a constraint: a 500 with the cause logged).
 */
export function databaseError(e: unknown): unknown {
  if (isChuteError(e) || !databaseDown(e)) return e;
  return new ChuteError('unavailable', {
    message: `database unavailable: ${(e as Error).message}`,
    retryAfter: RETRY_AFTER_SEC,
    cause: e,
  });
}
