import type { Driver, Executor } from './driver.ts';
import { readUsageRows, type Usage } from './quota.ts';
import { QuotaLedger } from './quota-ledger.ts';
import type { Upload, UploadState } from './types.ts';

/**
 * Where a grant batch reads its users' quota usage from. Both give the figures quota.ts defines;
 * they differ in what the engine makes cheap and safe:
 * - counters (PostgreSQL, several writers, several instances): each user's quota_usage row, kept
 *   up to date by triggers on every write to uploads, locked and read in the reader's transaction
 *   (quota-counters.sql.ts), so it counts every grant and transition any instance committed before.
 *   Grant batches read the same way inside chute_grant_batch (grant-batch.ts), in the database;
 *   read() is that read for a caller with a transaction of its own;
 * - the ledger (SQLite: one connection per file and process, so every write passes through here):
 *   sums kept in memory, loaded from the rows on a user's first grant (quota-ledger.ts).
 */
export interface UsageSource {
  /** Each user's usage at `now`, inside the batch's transaction; every user asked for is in the map. */
  read(tx: Executor, userIds: readonly string[], now: number): Promise<Map<string, Usage>>;
  /**
   * Grants this batch inserted, told before its COMMIT (so no later transaction can read usage
   * without them); a failed COMMIT is followed by reset().
   */
  inserted(uploads: readonly Upload[]): void;
  /** A state change committed (or about to be) in this process. */
  changed(userId: string, id: string, to: UploadState): void;
  /** A COMMIT failed: anything counted ahead of it is wrong. */
  reset(): void;
}

export function usageSource(db: Driver): UsageSource {
  const ledger = db.shared?.('quota-ledger', () => new QuotaLedger());
  return ledger === undefined ? new CounterUsage() : new LedgerUsage(ledger);
}

class CounterUsage implements UsageSource {
  async read(tx: Executor, userIds: readonly string[], now: number): Promise<Map<string, Usage>> {
    // Locks, moves the windows and reads in one round trip (quota-counters.sql.ts).
    const rows = await tx.all<Record<string, unknown>>('SELECT * FROM chute_quota_read(?, ?)', [
      JSON.stringify(userIds),
      now,
    ]);
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    const usage = new Map<string, Usage>();
    for (const row of rows) {
      usage.set(String(row.user_id), {
        recent: Number(row.recent),
        recentOldest: num(row.recent_oldest),
        pending: Number(row.pending),
        pendingFirstExpiry: num(row.pending_first_expiry),
        bytes: Number(row.bytes),
        bytesOldest: num(row.bytes_oldest),
      });
    }
    for (const id of userIds) if (!usage.has(id)) throw new Error(`no quota counters for ${id}`);
    return usage;
  }

  inserted(): void {}
  changed(): void {}
  reset(): void {}
}

class LedgerUsage implements UsageSource {
  readonly #ledger: QuotaLedger;

  constructor(ledger: QuotaLedger) {
    this.#ledger = ledger;
  }

  async read(tx: Executor, userIds: readonly string[], now: number): Promise<Map<string, Usage>> {
    await this.#checkVersion(tx);
    const out = new Map<string, Usage>();
    for (const userId of userIds) {
      if (out.has(userId)) continue;
      const user =
        this.#ledger.get(userId) ?? this.#ledger.load(userId, await readUsageRows(tx, userId, now));
      out.set(userId, user.usage(now));
    }
    return out;
  }

  /**
   * Drops the ledger when another connection (another process on this file) has committed since
   * we last looked: its grants and transitions never passed through this process. SQLite changes
   * `PRAGMA data_version` "if changes were committed to the database by any other connection in
   * the interim", and never for this connection's own commits.
   */
  async #checkVersion(tx: Executor): Promise<void> {
    const [row] = await tx.all<{ data_version: number }>('PRAGMA data_version');
    const version = Number(row?.data_version);
    if (this.#ledger.dataVersion !== version) {
      this.#ledger.clear();
      this.#ledger.dataVersion = version;
    }
  }

  inserted(uploads: readonly Upload[]): void {
    for (const u of uploads) {
      this.#ledger.get(u.userId)?.add({
        id: u.id,
        state: u.state,
        createdAt: u.createdAt,
        expiresAt: u.expiresAt,
        declaredSize: u.declaredSize,
      });
    }
  }

  changed(userId: string, id: string, to: UploadState): void {
    this.#ledger.setState(userId, id, to);
  }

  reset(): void {
    this.#ledger.clear();
  }
}
