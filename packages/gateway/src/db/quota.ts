import { ChuteError } from '@chute/errors';
import { formatSize } from '../units/size.ts';
import type { Executor } from './driver.ts';
import type { LedgerRow } from './quota-ledger.ts';
import type { QuotaLimits, UploadState } from './types.ts';

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/**
 * A user's usage, derived from their uploads rather than kept in counters: a grant reserves by
 * existing, and turning `rejected` or `expired` releases it in the same UPDATE, so the ledger
 * cannot drift from the uploads (no release to forget, none applied twice).
 *
 * - pending: grants in state `granted` not yet past expires_at (an unswept expired grant does not count);
 * - bytes: declared bytes granted in the last 24 h, except rejected, expired and withdrawn ones;
 * - recent: grants made in the last minute, whatever became of them (a rate, never released).
 */
export interface Usage {
  recent: number;
  recentOldest: number | null;
  pending: number;
  pendingFirstExpiry: number | null;
  bytes: number;
  bytesOldest: number | null;
}

export async function readUsage(tx: Executor, userId: string, now: number): Promise<Usage> {
  return (await readUsages(tx, [userId], now)).get(userId)!;
}

/** `readUsage` for several users in one query; every user asked for is in the map. */
export async function readUsages(
  tx: Executor,
  userIds: readonly string[],
  now: number,
): Promise<Map<string, Usage>> {
  // Grant lifetimes are at most 24 h, so every pending grant is inside the day window too.
  const rows = await tx.all<Record<string, unknown>>(
    `SELECT
       user_id,
       SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END) AS recent,
       MIN(CASE WHEN created_at > ? THEN created_at END) AS recent_oldest,
       SUM(CASE WHEN state = 'granted' AND expires_at > ? THEN 1 ELSE 0 END) AS pending,
       MIN(CASE WHEN state = 'granted' AND expires_at > ? THEN expires_at END) AS pending_first_expiry,
       SUM(CASE WHEN state NOT IN ('rejected', 'expired', 'withdrawn') THEN declared_size ELSE 0 END) AS bytes,
       MIN(CASE WHEN state NOT IN ('rejected', 'expired', 'withdrawn') THEN created_at END) AS bytes_oldest
     FROM uploads
     WHERE user_id IN (${userIds.map(() => '?').join(', ')}) AND created_at > ?
     GROUP BY user_id`,
    [now - MINUTE, now - MINUTE, now, now, ...userIds, now - DAY],
  );
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const usage = new Map<string, Usage>();
  for (const id of userIds) {
    usage.set(id, {
      recent: 0,
      recentOldest: null,
      pending: 0,
      pendingFirstExpiry: null,
      bytes: 0,
      bytesOldest: null,
    });
  }
  for (const row of rows) {
    usage.set(String(row.user_id), {
      recent: num(row.recent) ?? 0,
      recentOldest: num(row.recent_oldest),
      pending: num(row.pending) ?? 0,
      pendingFirstExpiry: num(row.pending_first_expiry),
      bytes: num(row.bytes) ?? 0,
      bytesOldest: num(row.bytes_oldest),
    });
  }
  return usage;
}

/** Adds a grant made at `now` to `usage`, as readUsage would count it once inserted. */
export function chargeUsage(usage: Usage, size: number, expiresAt: number, now: number): void {
  const min = (a: number | null, b: number) => (a === null ? b : Math.min(a, b));
  usage.recent++;
  usage.recentOldest = min(usage.recentOldest, now);
  if (expiresAt > now) {
    usage.pending++;
    usage.pendingFirstExpiry = min(usage.pendingFirstExpiry, expiresAt);
  }
  usage.bytes += size;
  usage.bytesOldest = min(usage.bytesOldest, now);
}

/**
 * The rows `readUsage` aggregates, oldest first, to seed a user's QuotaLedger (SQLite keeps the
 * sums in memory and updates them itself instead of running the query above on every grant).
 */
export async function readUsageRows(tx: Executor, userId: string, now: number): Promise<LedgerRow[]> {
  const rows = await tx.all<Record<string, unknown>>(
    `SELECT id, state, created_at, expires_at, declared_size FROM uploads
     WHERE user_id = ? AND created_at > ? ORDER BY created_at, id`,
    [userId, now - DAY],
  );
  return rows.map((r) => ({
    id: String(r.id),
    state: r.state as UploadState,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    declaredSize: Number(r.declared_size),
  }));
}

/**
 * Throws quota_exceeded (429) when one more grant of `size` bytes would pass a limit, with
 * Retry-After set to when the limit can next move (the oldest entry leaving its window, or the
 * first pending grant expiring).
 */
export function enforceQuota(usage: Usage, limits: QuotaLimits, size: number, now: number): void {
  const secondsUntil = (t: number | null, fallback: number) =>
    Math.max(1, ((t ?? now + fallback) - now) / 1000);
  if (usage.recent >= limits.grantsPerMinute) {
    throw new ChuteError('quota_exceeded', {
      message: `At most ${limits.grantsPerMinute} grants per minute.`,
      retryAfter: secondsUntil(usage.recentOldest === null ? null : usage.recentOldest + MINUTE, MINUTE),
      details: { quota: 'grantsPerMinute', limit: limits.grantsPerMinute },
    });
  }
  if (usage.pending >= limits.pendingGrants) {
    throw new ChuteError('quota_exceeded', {
      message: `At most ${limits.pendingGrants} uploads in progress; complete or let one expire.`,
      retryAfter: secondsUntil(usage.pendingFirstExpiry, MINUTE),
      details: { quota: 'pendingGrants', limit: limits.pendingGrants },
    });
  }
  if (usage.bytes + size > limits.bytesPerDay) {
    throw new ChuteError('quota_exceeded', {
      message: `At most ${formatSize(limits.bytesPerDay)} per 24 hours.`,
      retryAfter: secondsUntil(usage.bytesOldest === null ? null : usage.bytesOldest + DAY, DAY),
      details: { quota: 'bytesPerDay', limit: limits.bytesPerDay, used: usage.bytes },
    });
  }
}
