import { newEventId } from '../domain/ids.ts';
import type { Driver, Executor } from './driver.ts';
import { toEvent } from './rows.ts';
import type { NewEvent, OutboxEvent } from './types.ts';

/**
 * Writes an event inside the caller's transaction: the transactional outbox. An event tied to a
 * state change is written by the same transaction as the change (Uploads.transition), so it
 * exists exactly when the change does. The dispatcher fans it out to the webhook endpoints later
 * (Deliveries.fanOut); the writer does not need to know who subscribes.
 */
export async function insertEvent(tx: Executor, event: NewEvent, now: number): Promise<string> {
  const id = newEventId();
  await tx.run('INSERT INTO events (id, type, upload_id, payload, created_at) VALUES (?, ?, ?, ?, ?)', [
    id,
    event.type,
    event.uploadId ?? null,
    JSON.stringify(event.payload),
    now,
  ]);
  return id;
}

/** The outbox: events in the order they happened, and a signal when this process wrote one. */
export class Outbox {
  readonly #db: Driver;
  readonly #clock: () => number;
  readonly #listeners = new Set<() => void>();

  constructor(db: Driver, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Appends an event on its own (events tied to a state change go through transition). */
  async append(event: NewEvent): Promise<string> {
    const id = await this.#db.transaction((tx) => insertEvent(tx, event, this.#clock()));
    this.committed();
    return id;
  }

  /** One upload's events, oldest first. */
  async forUpload(uploadId: string): Promise<OutboxEvent[]> {
    const rows = await this.#db.all('SELECT * FROM events WHERE upload_id = ? ORDER BY id', [uploadId]);
    return rows.map(toEvent);
  }

  async get(id: string): Promise<OutboxEvent | undefined> {
    const [row] = await this.#db.all('SELECT * FROM events WHERE id = ?', [id]);
    return row === undefined ? undefined : toEvent(row);
  }

  /**
   * Calls `fn` after each COMMIT in this process that wrote an event (the dispatcher wakes
   * instead of waiting for its interval). Returns the unsubscribe function.
   */
  onCommitted(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** For writers: their transaction that wrote an event has committed. */
  committed(): void {
    for (const fn of this.#listeners) fn();
  }
}
