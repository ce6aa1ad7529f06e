import type { Driver, Executor } from './driver.ts';
import { readUsageRows, readUsages, type Usage } from './quota.ts';
import { QuotaLedger } from './quota-ledger.ts';
import type { Upload, UploadState } from './types.ts';

/**
 * Where a grant batch reads its users' quota usage from. Both give the figures quota.ts defines;
 * they differ in what the engine makes cheap and safe:
 * - rows (PostgreSQL, several writers, several instances): lock each user's quota_locks row, then
 *   aggregate their last day of rows — after the locks, so it counts every grant any instance
 *   committed before;
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
  return ledger === undefined ? new RowUsage() : new LedgerUsage(ledger);
}

class RowUsage implements UsageSource {
  async read(tx: Executor, userIds: readonly string[], now: number): Promise<Map<string, Usage>> {
    // Every instance takes the row locks in the same (sorted) order, so two batches that share
    // users wait for each other instead of deadlocking.
    const users = [...new Set(userIds)].sort();
    await tx.run(
      `INSERT INTO quota_locks (user_id, touched_at) VALUES ${users.map(() => '(?, ?)').join(', ')}
       ON CONFLICT (user_id) DO UPDATE SET touched_at = excluded.touched_at`,
      users.flatMap((u) => [u, now]),
    );
    return readUsages(tx, users, now);
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
