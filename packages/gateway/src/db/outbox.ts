import { newEventId } from '../domain/ids.ts';
import type { Driver, Executor } from './driver.ts';
import { toEvent } from './rows.ts';
import type { NewEvent, OutboxEvent } from './types.ts';

/**
 * Writes an event inside the caller's transaction: the transactional outbox. An event tied to a
 * state change is written by the same transaction as the change (Uploads.transition), so it
 * exists exactly when the change does.
 */
export async function insertEvent(tx: Executor, event: NewEvent, now: number): Promise<string> {
  const id = newEventId();
  await tx.run(
    `INSERT INTO events (id, type, upload_id, payload, created_at, attempts, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, 0, ?)`,
    [id, event.type, event.uploadId ?? null, JSON.stringify(event.payload), now, now],
  );
  return id;
}

/** The outbox: events waiting to be delivered, and what became of each attempt. */
export class Outbox {
  readonly #db: Driver;
  readonly #clock: () => number;

  constructor(db: Driver, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Appends an event on its own (events tied to a state change go through transition). */
  append(event: NewEvent): Promise<string> {
    return this.#db.transaction((tx) => insertEvent(tx, event, this.#clock()));
  }

  /** Undelivered events due for an attempt, oldest first. */
  async due(limit = 50): Promise<OutboxEvent[]> {
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
}
