import { ChuteError } from '@chute/errors';
import { newEventId } from '../ids.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Driver, Executor, SqlValue } from './driver.ts';
import { migrate } from './migrate.ts';
import { type OpenOptions, openDriver } from './open.ts';
import { enforceQuota, readUsage } from './quota.ts';
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

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Every query the gateway makes, over either engine. Open with `Repo.open(url)`, which also
 * brings the schema up to date.
 */
export class Repo {
  readonly #db: Driver;
  readonly #clock: () => number;

  private constructor(db: Driver, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
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
   */
  async insertGrant(grant: NewGrant, limits: QuotaLimits): Promise<Upload> {
    return this.#db.transaction(async (tx) => {
      const now = this.#clock();
      await tx.run(
        `INSERT INTO quota_locks (user_id, touched_at) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET touched_at = excluded.touched_at`,
        [grant.userId, now],
      );
      enforceQuota(await readUsage(tx, grant.userId, now), limits, grant.declaredSize, now);
      const [row] = await tx.all(
        `INSERT INTO uploads (id, user_id, route, state, method, incoming_key, filename, declared_type,
           declared_size, checksum, created_at, expires_at, updated_at)
         VALUES (?, ?, ?, 'granted', ?, ?, ?, ?, ?, ?, ?, ?, ?)
         RETURNING *`,
        [
          grant.id,
          grant.userId,
          grant.route,
          grant.method,
          grant.incomingKey,
          grant.filename,
          grant.declaredType,
          grant.declaredSize,
          grant.checksum ?? null,
          now,
          grant.expiresAt,
          now,
        ],
      );
      return toUpload(row!);
    });
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
    return this.#db.transaction(async (tx) => {
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
      if (event !== undefined) await insertEvent(tx, event, now);
      return toUpload(row);
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
