import type { Driver, SqlValue } from './driver.ts';
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
  /** Pending deliveries, plus events not yet fanned out to the endpoints. */
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

/**
 * Webhook deliveries: one row per (event, endpoint), pending until delivered or dead. Made by the
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
   * Fans out up to `limit` events not yet fanned out, oldest first: a pending delivery for each
   * subscription that takes the event's type, due now, all in one transaction with the mark on
   * the events. Returns how many events it took (less than `limit`: none are left).
   */
  fanOut(subscriptions: readonly Subscription[], limit = 500): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const now = this.#clock();
      const events = await tx.all<{ id: string; type: string; upload_id: string | null; created_at: number }>(
        'SELECT id, type, upload_id, created_at FROM events WHERE fanned_out_at IS NULL ORDER BY id LIMIT ?',
        [limit],
      );
      if (events.length === 0) return 0;
      const rows: SqlValue[][] = [];
      for (const e of events) {
        for (const s of subscriptions) {
          if (s.events.includes(e.type)) rows.push([e.id, s.id, e.upload_id, now, Number(e.created_at)]);
        }
      }
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        await tx.run(
          `INSERT INTO deliveries (event_id, endpoint_id, upload_id, state, attempts, next_attempt_at, created_at)
           VALUES ${chunk.map(() => "(?, ?, ?, 'pending', 0, ?, ?)").join(', ')} ON CONFLICT DO NOTHING`,
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

  /**
   * Pending deliveries due now for these endpoints, soonest first. A delivery waits while an
   * earlier event of the same upload is still pending for the same endpoint: events of one upload
   * arrive in order (verified before approved), however the retries of the first one go.
   */
  async due(endpointIds: readonly string[], limit: number): Promise<DueDelivery[]> {
    if (endpointIds.length === 0) return [];
    const rows = await this.#db.all<Record<string, unknown>>(
      `SELECT d.event_id, d.endpoint_id, d.upload_id, d.attempts, e.type, e.payload, e.created_at
       FROM deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.state = 'pending' AND d.next_attempt_at <= ?
         AND d.endpoint_id IN (${placeholders(endpointIds.length)})
         AND NOT EXISTS (
           SELECT 1 FROM deliveries p
           WHERE p.state = 'pending' AND p.endpoint_id = d.endpoint_id
             AND p.upload_id = d.upload_id AND p.event_id < d.event_id)
       ORDER BY d.next_attempt_at, d.event_id LIMIT ?`,
      [this.#clock(), ...endpointIds, limit],
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

  /** Records one attempt's outcome; false when the delivery was no longer pending. */
  async record(eventId: string, endpointId: string, outcome: DeliveryOutcome): Promise<boolean> {
    const now = this.#clock();
    const key = [eventId, endpointId];
    const where = "WHERE event_id = ? AND endpoint_id = ? AND state = 'pending'";
    let changed: number;
    if (outcome.kind === 'delivered') {
      changed = await this.#db.run(
        `UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL,
         delivered_at = ? ${where}`,
        [outcome.status, now, ...key],
      );
    } else if (outcome.kind === 'retry') {
      changed = await this.#db.run(
        `UPDATE deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ? ${where}`,
        [outcome.status, outcome.error, outcome.at, ...key],
      );
    } else {
      changed = await this.#db.run(
        `UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_status = ?, last_error = ?,
         dead_at = ? ${where}`,
        [outcome.status, outcome.error, now, ...key],
      );
    }
    return changed > 0;
  }

  /**
   * An endpoint answered 410 Gone: recorded as disabled (for this URL), and every delivery still
   * pending for it dead with `reason`, in one transaction. Returns how many it ended.
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
        `UPDATE deliveries SET state = 'dead', last_error = ?, dead_at = ? WHERE endpoint_id = ? AND state = 'pending'`,
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

  /** Pending deliveries of endpoints not in `keep` (removed from the config) become dead with `reason`. */
  retireOthers(keep: readonly string[], reason: string): Promise<number> {
    return this.#db.run(
      `UPDATE deliveries SET state = 'dead', last_error = ?, dead_at = ?
       WHERE state = 'pending'${keep.length > 0 ? ` AND endpoint_id NOT IN (${placeholders(keep.length)})` : ''}`,
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
      "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending'",
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
