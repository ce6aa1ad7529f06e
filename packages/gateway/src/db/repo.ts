import { ChuteError } from '@chute/errors';
import { newEventId } from '../ids.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Driver, Executor, SqlValue } from './driver.ts';
import { migrate } from './migrate.ts';
import { type OpenOptions, openDriver } from './open.ts';
import { chargeUsage, enforceQuota, readUsage, readUsageRows, readUsages, type Usage } from './quota.ts';
import { QuotaLedger } from './quota-ledger.ts';
import { TRANSITION_COLUMNS, toEvent, toUpload } from './rows.ts';
import type {
  ListQuery,
  NewEvent,
  NewGrant,
  OutboxEvent,
  Page,
  QuotaLimits,
  TransitionFields,
  Upload,
  UploadState,
} from './types.ts';

export interface RepoOptions extends OpenOptions {
  /** Epoch ms; injected so tests can move time. */
  clock?: () => number;
}

/** At most this many grants share one transaction. */
const GRANT_BATCH_MAX = 128;
/**
 * PostgreSQL commits this many batches at once, each on its own pooled connection: a batch spends
 * most of its time waiting on round trips, and batches of different users do not wait for each
 * other (the same user's do, on its quota_locks row). SQLite has one writer: one batch at a time.
 */
const PG_FLUSHERS = 3;

interface PendingGrant {
  grant: NewGrant;
  limits: QuotaLimits;
  resolve: (upload: Upload) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; upload: Upload } | { ok: false; error: unknown };

const INSERT_UPLOAD = `INSERT INTO uploads (id, user_id, route, state, method, incoming_key, filename,
  declared_type, declared_size, checksum, created_at, expires_at, updated_at) VALUES`;
const INSERT_UPLOAD_ROW = "(?, ?, ?, 'granted', ?, ?, ?, ?, ?, ?, ?, ?, ?)";

function newUpload(grant: NewGrant, now: number): Upload {
  return {
    id: grant.id,
    userId: grant.userId,
    route: grant.route,
    state: 'granted',
    method: grant.method,
    incomingKey: grant.incomingKey,
    fileKey: null,
    filename: grant.filename,
    declaredType: grant.declaredType,
    declaredSize: grant.declaredSize,
    checksum: grant.checksum ?? null,
    detectedType: null,
    size: null,
    width: null,
    height: null,
    reason: null,
    createdAt: now,
    expiresAt: grant.expiresAt,
    completedAt: null,
    updatedAt: now,
  };
}

/** The values of INSERT_UPLOAD_ROW, in its order. */
function insertParams(u: Upload): SqlValue[] {
  return [
    u.id,
    u.userId,
    u.route,
    u.method,
    u.incomingKey,
    u.filename,
    u.declaredType,
    u.declaredSize,
    u.checksum,
    u.createdAt,
    u.expiresAt,
    u.updatedAt,
  ];
}

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Every query the gateway makes, over either engine. Open with `Repo.open(url)`, which also
 * brings the schema up to date.
 */
export class Repo {
  readonly #db: Driver;
  readonly #clock: () => number;
  /** SQLite: quota usage kept in memory (quota-ledger.ts); PostgreSQL reads it from the rows. */
  readonly #ledger: QuotaLedger | undefined;

  private constructor(db: Driver, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
    this.#ledger = db.shared?.('quota-ledger', () => new QuotaLedger());
  }

  static async open(url: string, options: RepoOptions = {}): Promise<Repo> {
    const db = await openDriver(url, options);
    const clock = options.clock ?? Date.now;
    try {
      await migrate(db, undefined, clock());
    } catch (e) {
      await db.close();
      throw e;
    }
    return new Repo(db, clock);
  }

  get dialect(): Driver['dialect'] {
    return this.#db.dialect;
  }

  /**
   * Reserves quota and records the grant in one transaction. The per-user lock row is taken
   * first, so concurrent grants of one user are checked one after another and can never admit
   * more than the quota between them (the check-then-insert race).
   * Throws ChuteError quota_exceeded (429, with retryAfter).
   *
   * Grants that arrive while a batch is being committed are committed together in the next
   * transaction (group commit): a commit costs the same whatever it holds (WAL writes in SQLite,
   * round trips and a WAL record in PostgreSQL), so under load this multiplies grant throughput.
   * Each grant is still checked against the quota after the ones before it and resolves only once
   * its COMMIT succeeded. A quota refusal fails that grant alone; in SQLite so does a failed
   * INSERT, while in PostgreSQL the batch's rows go in one INSERT, which fails them together.
   */
  insertGrant(grant: NewGrant, limits: QuotaLimits): Promise<Upload> {
    return new Promise((resolve, reject) => {
      this.#grantQueue.push({ grant, limits, resolve, reject });
      if (this.#flushers < (this.#db.dialect === 'postgres' ? PG_FLUSHERS : 1)) {
        this.#flushers++;
        setImmediate(() => void this.#flushGrants());
      }
    });
  }

  readonly #grantQueue: PendingGrant[] = [];
  /** Batches being committed now. */
  #flushers = 0;

  async #flushGrants(): Promise<void> {
    while (this.#grantQueue.length > 0) {
      const batch = this.#grantQueue.splice(0, GRANT_BATCH_MAX);
      const outcomes: Outcome[] = [];
      try {
        await this.#db.transaction(async (tx) => {
          if (this.#db.dialect === 'postgres') return this.#insertGrantsPg(tx, batch, outcomes);
          await this.#checkLedger(tx);
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, upload: await this.#insertGrant(tx, item.grant, item.limits) });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        });
      } catch (error) {
        this.#ledger?.clear(); // it counted grants that never happened
        for (const item of batch) item.reject(error); // the COMMIT failed: none of them happened
        continue;
      }
      batch.forEach((item, i) => {
        const o = outcomes[i]!;
        if (o.ok) item.resolve(o.upload);
        else item.reject(o.error);
      });
    }
    this.#flushers--;
  }

  /**
   * Drops the ledger when another connection (another process on this file) has committed since
   * we last looked: its grants and transitions never passed through this process. SQLite changes
   * `PRAGMA data_version` "if changes were committed to the database by any other connection in
   * the interim", and never for this connection's own commits.
   */
  async #checkLedger(tx: Executor): Promise<void> {
    const ledger = this.#ledger;
    if (ledger === undefined) return;
    const [row] = await tx.all<{ data_version: number }>('PRAGMA data_version');
    const version = Number(row?.data_version);
    if (ledger.dataVersion !== version) {
      ledger.clear();
      ledger.dataVersion = version;
    }
  }

  async #usage(tx: Executor, userId: string, now: number): Promise<Usage> {
    const ledger = this.#ledger;
    if (ledger === undefined) return readUsage(tx, userId, now);
    const user = ledger.get(userId) ?? ledger.load(userId, await readUsageRows(tx, userId, now));
    return user.usage(now);
  }

  /**
   * PostgreSQL, one batch in five statements whatever its size: lock the batch's users, read their
   * usage (after the locks, so it includes every grant committed before by any instance), decide
   * each grant in order in memory, insert the admitted ones in one statement.
   */
  async #insertGrantsPg(tx: Executor, batch: PendingGrant[], outcomes: Outcome[]): Promise<void> {
    // A grant lost in a crash is harmless: its upload is refused at complete (no record) and
    // its object swept as a stray; its quota was never charged. So its COMMIT need not wait
    // for the WAL flush (the state transitions that follow keep full durability).
    await tx.exec('SET LOCAL synchronous_commit = off');
    const now = this.#clock();
    // Every instance takes the row locks in the same (sorted) order, so two batches that share
    // users wait for each other instead of deadlocking.
    const users = [...new Set(batch.map((item) => item.grant.userId))].sort();
    await tx.run(
      `INSERT INTO quota_locks (user_id, touched_at) VALUES ${users.map(() => '(?, ?)').join(', ')}
       ON CONFLICT (user_id) DO UPDATE SET touched_at = excluded.touched_at`,
      users.flatMap((u) => [u, now]),
    );
    const usage = await readUsages(tx, users, now);
    const admitted: Upload[] = [];
    for (const item of batch) {
      try {
        const used = usage.get(item.grant.userId)!;
        enforceQuota(used, item.limits, item.grant.declaredSize, now);
        chargeUsage(used, item.grant.declaredSize, item.grant.expiresAt, now);
        const upload = newUpload(item.grant, now);
        admitted.push(upload);
        outcomes.push({ ok: true, upload });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (admitted.length > 0) {
      await tx.run(
        `${INSERT_UPLOAD} ${admitted.map(() => INSERT_UPLOAD_ROW).join(', ')}`,
        admitted.flatMap(insertParams),
      );
    }
  }

  /** SQLite, one grant of a batch: its quota from the ledger, then its own INSERT. */
  async #insertGrant(tx: Executor, grant: NewGrant, limits: QuotaLimits): Promise<Upload> {
    const now = this.#clock();
    enforceQuota(await this.#usage(tx, grant.userId, now), limits, grant.declaredSize, now);
    const upload = newUpload(grant, now);
    // No RETURNING: every column is known here, and materialising the row back costs more than it tells.
    await tx.run(`${INSERT_UPLOAD} ${INSERT_UPLOAD_ROW}`, insertParams(upload));
    this.#ledger?.get(upload.userId)?.add({
      id: upload.id,
      state: 'granted',
      createdAt: now,
      expiresAt: upload.expiresAt,
      declaredSize: upload.declaredSize,
    });
    return upload;
  }

  /** A trivial query: whether the database answers (health checks). */
  async ping(): Promise<void> {
    await this.#db.all('SELECT 1 AS ok');
  }

  async getUpload(id: string): Promise<Upload | undefined> {
    const [row] = await this.#db.all('SELECT * FROM uploads WHERE id = ?', [id]);
    return row === undefined ? undefined : toUpload(row);
  }

  /** Newest first; `userId` limits to one user's uploads. */
  async listUploads(query: ListQuery = {}): Promise<Page<Upload>> {
    const limit = query.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) {
      throw new ChuteError('invalid_request', { message: 'limit must be 1–100.' });
    }
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.userId !== undefined) {
      where.push('user_id = ?');
      params.push(query.userId);
    }
    if (query.states !== undefined && query.states.length > 0) {
      where.push(`state IN (${placeholders(query.states.length)})`);
      params.push(...query.states);
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(c.createdAt, c.createdAt, c.id);
    }
    // One row more than asked tells whether there is a next page without a COUNT.
    const rows = await this.#db.all(
      `SELECT * FROM uploads ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const items = rows.slice(0, limit).map(toUpload);
    const last = items.at(-1);
    return rows.length > limit && last !== undefined
      ? { items, nextCursor: encodeCursor(last.createdAt, last.id) }
      : { items };
  }

  /**
   * Compare-and-set: moves the upload to `to` only if it is in one of `from` now, and returns the
   * updated upload, or undefined when it was not (another request got there first, or the state
   * is wrong). This is what makes complete idempotent and race-free: of two concurrent completes,
   * one wins the CAS and the other re-reads the result. `event` is appended in the same
   * transaction, only when the transition happened.
   */
  async transition(
    id: string,
    from: readonly UploadState[],
    to: UploadState,
    fields: TransitionFields = {},
    event?: NewEvent,
  ): Promise<Upload | undefined> {
    if (from.length === 0) throw new TypeError('transition needs at least one from-state');
    const ledger = this.#ledger;
    const done = this.#db.transaction(async (tx) => {
      const now = this.#clock();
      const sets = ['state = ?', 'updated_at = ?'];
      const params: SqlValue[] = [to, now];
      for (const [field, value] of Object.entries(fields)) {
        // Column names come only from the allow-list (own properties: not 'constructor' etc.).
        if (!Object.hasOwn(TRANSITION_COLUMNS, field)) throw new TypeError(`transition cannot set ${field}`);
        const column = TRANSITION_COLUMNS[field as keyof TransitionFields];
        if (value === undefined) continue;
        sets.push(`${column} = ?`);
        params.push(value);
      }
      const [row] = await tx.all(
        `UPDATE uploads SET ${sets.join(', ')} WHERE id = ? AND state IN (${placeholders(from.length)}) RETURNING *`,
        [...params, id, ...from],
      );
      if (row === undefined) return undefined;
      const upload = toUpload(row);
      ledger?.setState(upload.userId, upload.id, upload.state);
      if (event !== undefined) await insertEvent(tx, event, now);
      return upload;
    });
    // A failed COMMIT after setState would leave the ledger ahead of the rows.
    return done.catch((e: unknown) => {
      ledger?.clear();
      throw e;
    });
  }

  /**
   * Grants still `granted` whose deadline passed before `before` (the sweeper passes now − grace),
   * oldest first. The sweeper then moves each with transition(id, ['granted'], 'expired'), which
   * releases its quota; a grant completed meanwhile simply fails the CAS.
   */
  async findExpired(before: number, limit = 100): Promise<Upload[]> {
    const rows = await this.#db.all(
      `SELECT * FROM uploads WHERE state = 'granted' AND expires_at < ? ORDER BY expires_at, id LIMIT ?`,
      [before, limit],
    );
    return rows.map(toUpload);
  }

  /**
   * Uploads stuck in `state` since before `updatedBefore` (the sweeper finds `uploaded` claims
   * whose completer died and hands them back).
   */
  async findStale(state: UploadState, updatedBefore: number, limit = 100): Promise<Upload[]> {
    const rows = await this.#db.all(
      'SELECT * FROM uploads WHERE state = ? AND updated_at < ? ORDER BY updated_at, id LIMIT ?',
      [state, updatedBefore, limit],
    );
    return rows.map(toUpload);
  }

  /** The uploads with these ids that exist (any order). */
  async getUploads(ids: readonly string[]): Promise<Upload[]> {
    if (ids.length === 0) return [];
    const out: Upload[] = [];
    // Chunked: SQLite limits bound parameters (32766 by default, far fewer in old builds).
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await this.#db.all(
        `SELECT * FROM uploads WHERE id IN (${placeholders(chunk.length)})`,
        chunk,
      );
      out.push(...rows.map(toUpload));
    }
    return out;
  }

  /**
   * Runs `fn` only in the one instance that holds the named lock, for fn's duration; resolves to
   * false without running it when another instance holds it. PostgreSQL: a transaction-scoped
   * advisory lock (released by COMMIT even if this process dies, as the connection closes), per
   * schema. SQLite is one process's file: there is no other instance to exclude.
   */
  async exclusive(name: string, fn: () => Promise<void>): Promise<boolean> {
    if (this.#db.dialect === 'sqlite') {
      await fn();
      return true;
    }
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.all<{ locked: boolean }>(
        "SELECT pg_try_advisory_xact_lock(hashtext('chute.' || ? || '.' || current_schema())) AS locked",
        [name],
      );
      if (row?.locked !== true) return false;
      await fn();
      return true;
    });
  }

  /** Appends an event on its own (events tied to a state change go through transition). */
  async appendEvent(event: NewEvent): Promise<string> {
    return this.#db.transaction((tx) => insertEvent(tx, event, this.#clock()));
  }

  /** Undelivered events due for an attempt, oldest first. */
  async dueEvents(limit = 50): Promise<OutboxEvent[]> {
    const rows = await this.#db.all(
      `SELECT * FROM events WHERE delivered_at IS NULL AND next_attempt_at <= ?
       ORDER BY next_attempt_at, created_at, id LIMIT ?`,
      [this.#clock(), limit],
    );
    return rows.map(toEvent);
  }

  /** Records a delivery attempt: delivered, or to be retried at `retryAt`. */
  async recordAttempt(
    id: string,
    outcome: { delivered: true } | { delivered: false; retryAt: number },
  ): Promise<void> {
    const now = this.#clock();
    await this.#db.run(
      outcome.delivered
        ? 'UPDATE events SET attempts = attempts + 1, delivered_at = ? WHERE id = ?'
        : 'UPDATE events SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?',
      [outcome.delivered ? now : outcome.retryAt, id],
    );
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

async function insertEvent(tx: Executor, event: NewEvent, now: number): Promise<string> {
  const id = newEventId();
  await tx.run(
    `INSERT INTO events (id, type, upload_id, payload, created_at, attempts, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, 0, ?)`,
    [id, event.type, event.uploadId ?? null, JSON.stringify(event.payload), now, now],
  );
  return id;
}
