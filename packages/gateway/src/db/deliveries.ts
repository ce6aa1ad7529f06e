import type { Driver, Executor, SqlValue } from './driver.ts';
import { toDelivery } from './rows.ts';
import type { Delivery, DueDelivery } from './types.ts';

/** An endpoint and the event types it receives (the dispatcher passes the configured ones). */
export interface Subscription {
  id: string;
  events: readonly string[];
}

/** What one attempt came to. `retry` and `dead` count as an attempt as much as `delivered`. */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; error: string; at: number }
  | { kind: 'dead'; status: number | null; error: string };

export interface OutboxStats {
  /** Open deliveries (waiting or pending), plus events not yet fanned out to the endpoints. */
  depth: number;
  /** created_at of the oldest of those; null when there is none. */
  oldestCreatedAt: number | null;
}

export interface DisabledEndpoint {
  id: string;
  /** The URL that answered 410; the endpoint stays disabled while the config has this URL for it. */
  url: string;
  disabledAt: number;
  reason: string;
}

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
/** Rows per multi-row INSERT: 7 parameters each stays far below every engine's limit. */
const INSERT_CHUNK = 100;
/** Values per IN (…) list. */
const IN_CHUNK = 500;

/**
 * Webhook deliveries: one row per (event, endpoint), open (waiting, then pending) until delivered
 * or dead. Of one upload's deliveries to one endpoint only the oldest open one is pending; the
 * next one is released when it ends, in the same transaction, so the due list never needs to
 * look for earlier events (a query whose cost would grow with the backlog). Made by the
 * dispatcher from the outbox (fanOut), never by the writers of events, so a state change writes
 * one event row whoever subscribes, and the subscriptions live in one place (the dispatcher's
 * config). The dispatcher runs in one instance at a time (Locks), so these are not built for
 * concurrent dispatchers, only made safe against them (ON CONFLICT, `state = 'pending'` guards).
 */
export class Deliveries {
  readonly #db: Driver;
  readonly #clock: () => number;

  constructor(db: Driver, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * Fans out up to `limit` events not yet fanned out, oldest first: a delivery for each
   * subscription that takes the event's type, all in one transaction with the mark on the events.
   * It is pending (due now) unless an earlier event of the same upload is still open for that
   * endpoint, then waiting. Returns how many events it took (less than `limit`: none are left).
   */
  fanOut(subscriptions: readonly Subscription[], limit = 500): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const now = this.#clock();
      const events = await tx.all<{ id: string; type: string; upload_id: string | null; created_at: number }>(
        'SELECT id, type, upload_id, created_at FROM events WHERE fanned_out_at IS NULL ORDER BY id LIMIT ?',
        [limit],
      );
      if (events.length === 0) return 0;
      // (upload, endpoint) pairs with an open delivery: the new ones queue behind it.
      const open = new Set<string>();
      const uploads = [...new Set(events.map((e) => e.upload_id).filter((u) => u !== null))];
      for (let i = 0; i < uploads.length; i += IN_CHUNK) {
        const chunk = uploads.slice(i, i + IN_CHUNK);
        const rows = await tx.all<{ upload_id: string; endpoint_id: string }>(
          `SELECT DISTINCT upload_id, endpoint_id FROM deliveries
           WHERE upload_id IN (${placeholders(chunk.length)}) AND state IN ('waiting', 'pending')`,
          chunk,
        );
        for (const r of rows) open.add(`${r.upload_id} ${r.endpoint_id}`);
      }
      const rows: SqlValue[][] = [];
      for (const e of events) {
        for (const s of subscriptions) {
          if (!s.events.includes(e.type)) continue;
          const pair = `${e.upload_id} ${s.id}`;
          const waits = e.upload_id !== null && open.has(pair);
          if (e.upload_id !== null) open.add(pair);
          rows.push([e.id, s.id, e.upload_id, waits ? 'waiting' : 'pending', now, Number(e.created_at)]);
        }
      }
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        await tx.run(
          `INSERT INTO deliveries (event_id, endpoint_id, upload_id, state, attempts, next_attempt_at, created_at)
           VALUES ${chunk.map(() => '(?, ?, ?, ?, 0, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
          chunk.flat(),
        );
      }
      const ids = events.map((e) => e.id);
      await tx.run(
        `UPDATE events SET fanned_out_at = ? WHERE id IN (${placeholders(ids.length)}) AND fanned_out_at IS NULL`,
        [now, ...ids],
      );
      return events.length;
    });
  }

  /** An endpoint's pending deliveries due now, soonest first (waiting ones are not due). */
  async due(endpointId: string, limit: number): Promise<DueDelivery[]> {
    const rows = await this.#db.all<Record<string, unknown>>(
      `SELECT d.event_id, d.endpoint_id, d.upload_id, d.attempts, e.type, e.payload, e.created_at
       FROM deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.endpoint_id = ? AND d.state = 'pending' AND d.next_attempt_at <= ?
       ORDER BY d.next_attempt_at, d.event_id LIMIT ?`,
      [endpointId, this.#clock(), limit],
    );
    return rows.map((r) => ({
      eventId: String(r.event_id),
      endpointId: String(r.endpoint_id),
      uploadId: (r.upload_id as string | null) ?? null,
      attempts: Number(r.attempts),
      type: String(r.type),
      payload: String(r.payload),
      eventCreatedAt: Number(r.created_at),
    }));
  }

  /**
   * Records one attempt's outcome; false when the delivery was no longer pending. A delivery that
   * ends (delivered, dead) releases the next waiting event of its upload for that endpoint.
   */
  async record(eventId: string, endpointId: string, outcome: DeliveryOutcome): Promise<boolean> {
    const key = [eventId, endpointId];
    const where = "WHERE event_id = ? AND endpoint_id = ? AND state = 'pending' RETURNING upload_id";
    if (outcome.kind === 'retry') {
      // Still open: nothing to release, one statement.
      const rows = await this.#db.all(
        `UPDATE deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ? ${where}`,
        [outcome.status, outcome.error, outcome.at, ...key],
      );
      return rows.length > 0;
    }
    return this.#db.transaction(async (tx) => {
      const now = this.#clock();
      const rows = await tx.all<{ upload_id: string | null }>(
        outcome.kind === 'delivered'
          ? `UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL,
             delivered_at = ? ${where}`
          : `UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_status = ?, last_error = ?,
             dead_at = ? ${where}`,
        outcome.kind === 'delivered'
          ? [outcome.status, now, ...key]
          : [outcome.status, outcome.error, now, ...key],
      );
      const [row] = rows;
      if (row === undefined) return false;
      if (row.upload_id !== null) await this.#release(tx, row.upload_id, endpointId, now);
      return true;
    });
  }

  /** The oldest waiting delivery of this upload for this endpoint becomes pending, due now. */
  async #release(tx: Executor, uploadId: string, endpointId: string, now: number): Promise<void> {
    await tx.run(
      `UPDATE deliveries SET state = 'pending', next_attempt_at = ?
       WHERE endpoint_id = ? AND state = 'waiting' AND event_id = (
         SELECT MIN(event_id) FROM deliveries WHERE upload_id = ? AND endpoint_id = ? AND state = 'waiting')`,
      [now, endpointId, uploadId, endpointId],
    );
  }

  /**
   * An endpoint answered 410 Gone: recorded as disabled (for this URL), and every delivery still
   * open for it dead with `reason`, in one transaction. Returns how many it ended.
   */
  disable(endpoint: { id: string; url: string }, reason: string): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const now = this.#clock();
      await tx.run(
        `INSERT INTO webhook_endpoints (id, url, disabled_at, reason) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, disabled_at = excluded.disabled_at, reason = excluded.reason`,
        [endpoint.id, endpoint.url, now, reason],
      );
      return tx.run(
        `UPDATE deliveries SET state = 'dead', last_error = ?, dead_at = ?
         WHERE state IN ('waiting', 'pending') AND endpoint_id = ?`,
        [reason, now, endpoint.id],
      );
    });
  }

  /** Endpoints recorded as disabled (410), with the URL they had then. */
  async disabled(): Promise<DisabledEndpoint[]> {
    const rows = await this.#db.all<Record<string, unknown>>('SELECT * FROM webhook_endpoints ORDER BY id');
    return rows.map((r) => ({
      id: String(r.id),
      url: String(r.url),
      disabledAt: Number(r.disabled_at),
      reason: String(r.reason),
    }));
  }

  /** Forgets a disabled endpoint (it is delivered to again, from the next event on). */
  async enable(id: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM webhook_endpoints WHERE id = ?', [id])) > 0;
  }

  /** Open deliveries of endpoints not in `keep` (removed from the config) become dead with `reason`. */
  retireOthers(keep: readonly string[], reason: string): Promise<number> {
    return this.#db.run(
      `UPDATE deliveries SET state = 'dead', last_error = ?, dead_at = ?
       WHERE state IN ('waiting', 'pending')${keep.length > 0 ? ` AND endpoint_id NOT IN (${placeholders(keep.length)})` : ''}`,
      [reason, this.#clock(), ...keep],
    );
  }

  async forEvent(eventId: string): Promise<Delivery[]> {
    const rows = await this.#db.all('SELECT * FROM deliveries WHERE event_id = ? ORDER BY endpoint_id', [
      eventId,
    ]);
    return rows.map(toDelivery);
  }

  /** An endpoint's deliveries in event order (tests, operators). */
  async forEndpoint(endpointId: string, limit = 1000): Promise<Delivery[]> {
    const rows = await this.#db.all(
      'SELECT * FROM deliveries WHERE endpoint_id = ? ORDER BY event_id LIMIT ?',
      [endpointId, limit],
    );
    return rows.map(toDelivery);
  }

  /** What the outbox metrics show; cheap (partial indexes over the few undelivered rows). */
  async stats(): Promise<OutboxStats> {
    const [d] = await this.#db.all<{ n: number | string; oldest: number | null }>(
      "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE state IN ('waiting', 'pending')",
    );
    const [e] = await this.#db.all<{ n: number | string; oldest: number | null }>(
      'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM events WHERE fanned_out_at IS NULL',
    );
    const oldest = [d?.oldest, e?.oldest].filter((v) => v !== null && v !== undefined).map(Number);
    return {
      depth: Number(d?.n ?? 0) + Number(e?.n ?? 0),
      oldestCreatedAt: oldest.length > 0 ? Math.min(...oldest) : null,
    };
  }
}
