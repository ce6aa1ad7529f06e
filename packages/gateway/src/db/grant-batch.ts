import { newSortableId } from '../domain/ids.ts';
import type { NewAuditEntry } from './audit.ts';
import type { Executor } from './driver.ts';
import type { Usage } from './quota.ts';
import type { QuotaLimits, Upload } from './types.ts';

export interface BatchGrant {
  upload: Upload;
  limits: QuotaLimits;
  audit: NewAuditEntry;
}

export interface BatchResult {
  /** Each user's usage before the batch, read under the batch's locks. */
  usage: Map<string, Usage>;
  /** Per grant, in batch order: whether the database admitted and inserted it. */
  admitted: boolean[];
}

/**
 * PostgreSQL: a whole group-commit batch in one statement, chute_grant_batch
 * (quota-counters.sql.ts), run on its own, so it is its own transaction and costs one round
 * trip: BEGIN, read, INSERT, INSERT, COMMIT were five, and under load each one waits for the
 * gateway and the database to be scheduled again. The database admits each grant in order as
 * enforceQuota would, inserts those and their audit rows, and returns what it read, so the
 * caller can replay the decisions with enforceQuota (and refuse with its error).
 */
export async function commitGrantBatch(
  db: Executor,
  batch: readonly BatchGrant[],
  now: number,
): Promise<BatchResult> {
  const grants = batch.map(({ upload: u, limits, audit }, n) => ({
    n,
    id: u.id,
    user_id: u.userId,
    route: u.route,
    rule_hash: u.ruleHash,
    method: u.method,
    incoming_key: u.incomingKey,
    filename: u.filename,
    declared_type: u.declaredType,
    declared_size: u.declaredSize,
    checksum: u.checksum,
    expires_at: u.expiresAt,
    multipart_id: u.multipartId,
    part_size: u.partSize,
    grants_per_minute: limits.grantsPerMinute,
    pending_grants: limits.pendingGrants,
    bytes_per_day: limits.bytesPerDay,
    audit_id: newSortableId('au', now),
    actor: audit.by.id,
    actor_role: audit.by.role,
    request_id: audit.by.requestId ?? null,
    detail: audit.detail === undefined ? null : JSON.stringify(audit.detail),
  }));
  const users = [...new Set(batch.map((g) => g.upload.userId))];
  const [row] = await db.all<{ result: string }>('SELECT chute_grant_batch(?, ?) AS result', [
    JSON.stringify({ users, grants }),
    now,
  ]);
  const result = JSON.parse(row!.result) as {
    usage: Record<string, Record<string, unknown>>;
    admitted: number[];
  };
  const admitted = new Set(result.admitted);
  return {
    usage: new Map(Object.entries(result.usage).map(([user, u]) => [user, toUsage(u)])),
    admitted: batch.map((_, n) => admitted.has(n)),
  };
}

/** JSON numbers as they came (BIGINT columns, NULL for an empty window). */
function toUsage(u: Record<string, unknown>): Usage {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    recent: Number(u.recent),
    recentOldest: num(u.recentOldest),
    pending: Number(u.pending),
    pendingFirstExpiry: num(u.pendingFirstExpiry),
    bytes: Number(u.bytes),
    bytesOldest: num(u.bytesOldest),
  };
}
