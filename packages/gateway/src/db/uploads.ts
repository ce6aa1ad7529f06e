import { ChuteError } from '@chute/errors';
import { type Actor, type AuditAction, appendAudit, SYSTEM } from './audit.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Driver, SqlValue } from './driver.ts';
import { insertEvent, type Outbox } from './outbox.ts';
import { TRANSITION_COLUMNS, toUpload } from './rows.ts';
import type { ListQuery, NewEvent, Page, TransitionFields, Upload, UploadState } from './types.ts';
import type { UsageSource } from './usage.ts';

/** What a change of one upload carries besides its new state. */
export interface Change {
  fields?: TransitionFields;
  /** Appended to the outbox with the change. */
  event?: NewEvent;
  /** Who made the change (the audit row); default the gateway itself. */
  by?: Actor;
  /** What the audit row calls it; default by the state reached (DEFAULT_ACTION). */
  action?: AuditAction;
  /** Facts for the audit row: reason codes, keys, notes. */
  detail?: Record<string, unknown>;
}

const DEFAULT_ACTION: Record<UploadState, AuditAction> = {
  granted: 'claim_released',
  uploaded: 'upload_seen',
  verified: 'verified',
  pending_review: 'verified',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  withdrawn: 'withdrawn',
};

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Reading uploads, and moving them through their states (the only way their rows change). */
export class Uploads {
  readonly #db: Driver;
  readonly #usage: UsageSource;
  readonly #clock: () => number;
  readonly #outbox: Outbox;

  constructor(db: Driver, usage: UsageSource, clock: () => number, outbox: Outbox) {
    this.#db = db;
    this.#usage = usage;
    this.#clock = clock;
    this.#outbox = outbox;
  }

  async get(id: string): Promise<Upload | undefined> {
    const [row] = await this.#db.all('SELECT * FROM uploads WHERE id = ?', [id]);
    return row === undefined ? undefined : toUpload(row);
  }

  /** The uploads with these ids that exist (any order). */
  async getMany(ids: readonly string[]): Promise<Upload[]> {
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

  /** Newest first; `userId` limits to one user's uploads. */
  async list(query: ListQuery = {}): Promise<Page<Upload>> {
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
   * one wins the CAS and the other re-reads the result. In the same transaction, only when the
   * transition happened: its audit row (who, which request, from and to) and `change.event`.
   * `to` may equal a `from` state: a change of the row's data under a state (publication).
   */
  async transition(
    id: string,
    from: readonly UploadState[],
    to: UploadState,
    change: Change = {},
  ): Promise<Upload | undefined> {
    if (from.length === 0) throw new TypeError('transition needs at least one from-state');
    const done = this.#db.transaction(async (tx) => {
      const now = this.#clock();
      // SET reads the row as it was: previous_state gets the state being left.
      const sets = ['previous_state = state', 'state = ?', 'updated_at = ?'];
      const params: SqlValue[] = [to, now];
      for (const [field, value] of Object.entries(change.fields ?? {})) {
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
      this.#usage.changed(upload.userId, upload.id, upload.state);
      await appendAudit(
        tx,
        [
          {
            uploadId: id,
            by: change.by ?? SYSTEM,
            action: change.action ?? DEFAULT_ACTION[to],
            fromState: upload.previousState,
            toState: to,
            detail: change.detail,
          },
        ],
        now,
      );
      if (change.event !== undefined) await insertEvent(tx, change.event, now);
      return upload;
    });
    // A failed COMMIT after changed() would leave the usage ahead of the rows.
    return done.then(
      (upload) => {
        if (upload !== undefined && change.event !== undefined) this.#outbox.committed();
        // The in-memory ledger counted the size declared at grant time: read the rows again.
        if (upload !== undefined && change.fields?.declaredSize !== undefined) this.#usage.reset();
        return upload;
      },
      (e: unknown) => {
        this.#usage.reset();
        throw e;
      },
    );
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
   * Marks an upload still in `state` as worked on now (a completer's heartbeat on its claim, so
   * the sweeper does not take back a claim whose holder is alive). False when it has left `state`.
   */
  async touch(id: string, state: UploadState): Promise<boolean> {
    return (
      (await this.#db.run('UPDATE uploads SET updated_at = ? WHERE id = ? AND state = ?', [
        this.#clock(),
        id,
        state,
      ])) > 0
    );
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

  /** The review queue (or decided uploads): by verification time, oldest first, cursor-paged. */
  async queue(query: {
    states: readonly UploadState[];
    cursor?: string | undefined;
    limit?: number | undefined;
  }): Promise<Page<Upload>> {
    const limit = query.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) {
      throw new ChuteError('invalid_request', { message: 'limit must be 1–100.' });
    }
    const params: SqlValue[] = [...query.states];
    let after = '';
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      after = 'AND (completed_at > ? OR (completed_at = ? AND id > ?))';
      params.push(c.createdAt, c.createdAt, c.id);
    }
    const rows = await this.#db.all(
      `SELECT * FROM uploads WHERE state IN (${placeholders(query.states.length)}) ${after}
       ORDER BY completed_at, id LIMIT ?`,
      [...params, limit + 1],
    );
    const items = rows.slice(0, limit).map(toUpload);
    const last = items.at(-1);
    return rows.length > limit && last !== undefined
      ? { items, nextCursor: encodeCursor(last.completedAt ?? 0, last.id) }
      : { items };
  }

  /** A user's files of a route that are published now (keepOne retires all but the newest). */
  async findPublished(userId: string, route: string): Promise<Upload[]> {
    const rows = await this.#db.all(
      `SELECT * FROM uploads WHERE user_id = ? AND route = ? AND published_key IS NOT NULL
       AND state IN ('approved', 'verified') ORDER BY created_at, id`,
      [userId, route],
    );
    return rows.map(toUpload);
  }

  /**
   * Approved uploads whose publication has not happened since before `updatedBefore` (the copy
   * failed, or its process died): the sweeper publishes them. Retired ones are not candidates.
   */
  async findUnpublished(updatedBefore: number, limit = 100): Promise<Upload[]> {
    const rows = await this.#db.all(
      `SELECT * FROM uploads WHERE state = 'approved' AND published_key IS NULL AND retired_at IS NULL
       AND updated_at < ? ORDER BY updated_at, id LIMIT ?`,
      [updatedBefore, limit],
    );
    return rows.map(toUpload);
  }

  /** Rejected or withdrawn uploads whose frozen copy is due for deletion. */
  async findPurgeable(now: number, limit = 100): Promise<Upload[]> {
    const rows = await this.#db.all(
      `SELECT * FROM uploads WHERE purge_at IS NOT NULL AND purged_at IS NULL AND purge_at <= ?
       ORDER BY purge_at, id LIMIT ?`,
      [now, limit],
    );
    return rows.map(toUpload);
  }
}
