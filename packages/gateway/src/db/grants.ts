import { appendAudit, type NewAuditEntry } from './audit.ts';
import type { Driver, Executor, SqlValue } from './driver.ts';
import { commitGrantBatch } from './grant-batch.ts';
import { chargeUsage, enforceQuota } from './quota.ts';
import type { NewGrant, QuotaLimits, Upload } from './types.ts';
import type { UsageSource } from './usage.ts';

/** At most this many grants share one transaction. */
const BATCH_MAX = 128;

interface Pending {
  grant: NewGrant;
  limits: QuotaLimits;
  resolve: (upload: Upload) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; upload: Upload } | { ok: false; error: unknown };

const INSERT = `INSERT INTO uploads (id, user_id, route, rule_hash, state, method, incoming_key, filename,
  declared_type, declared_size, checksum, created_at, expires_at, updated_at, multipart_id, part_size) VALUES`;
const ROW = "(?, ?, ?, ?, 'granted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/** The values of ROW, in its order. */
function rowParams(u: Upload): SqlValue[] {
  return [
    u.id,
    u.userId,
    u.route,
    u.ruleHash,
    u.method,
    u.incomingKey,
    u.filename,
    u.declaredType,
    u.declaredSize,
    u.checksum,
    u.createdAt,
    u.expiresAt,
    u.updatedAt,
    u.multipartId,
    u.partSize,
  ];
}

function newUpload(grant: NewGrant, now: number): Upload {
  return {
    id: grant.id,
    userId: grant.userId,
    route: grant.route,
    ruleHash: grant.ruleHash,
    state: 'granted',
    method: grant.method,
    incomingKey: grant.incomingKey,
    fileKey: null,
    filename: grant.filename,
    declaredType: grant.declaredType,
    declaredSize: grant.declaredSize,
    checksum: grant.checksum ?? null,
    detectedType: null,
    size: null,
    width: null,
    height: null,
    reason: null,
    createdAt: now,
    expiresAt: grant.expiresAt,
    completedAt: null,
    updatedAt: now,
    previousState: null,
    reviewedBy: null,
    reviewedAt: null,
    reviewReason: null,
    reviewNote: null,
    publishedKey: null,
    publishedAt: null,
    retiredAt: null,
    purgeAt: null,
    purgedAt: null,
    multipartId: grant.multipartId ?? null,
    partSize: grant.partSize ?? null,
  };
}

/**
 * Records grants, reserving quota, in group commits: grants that arrive while a batch is being
 * committed go together in the next transaction. A commit costs the same whatever it holds (WAL
 * writes in SQLite; a round trip and a WAL flush in PostgreSQL, where a batch is one statement),
 * so under load this multiplies grant throughput. Each grant is still checked against the quota
 * after the ones before it, and resolves only once its COMMIT succeeded. A quota refusal fails
 * that grant alone; a failed INSERT or COMMIT fails the batch (none of it happened).
 */
export class Grants {
  readonly #db: Driver;
  readonly #usage: UsageSource;
  readonly #clock: () => number;
  readonly #queue: Pending[] = [];
  /** Batches being committed now, at most `db.writers`. */
  #flushers = 0;

  constructor(db: Driver, usage: UsageSource, clock: () => number) {
    this.#db = db;
    this.#usage = usage;
    this.#clock = clock;
  }

  /**
   * Reserves quota and records the grant in one transaction. The user's usage is read under a
   * lock (PostgreSQL: their quota_usage row; SQLite: the single writer), so concurrent grants of
   * one user are checked one after another and can never admit more than the quota between them
   * (the check-then-insert race). Throws ChuteError quota_exceeded (429, with retryAfter).
   */
  insert(grant: NewGrant, limits: QuotaLimits): Promise<Upload> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ grant, limits, resolve, reject });
      if (this.#flushers < this.#db.writers) {
        this.#flushers++;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, BATCH_MAX);
      let outcomes: Outcome[];
      try {
        outcomes =
          this.#db.dialect === 'postgres'
            ? await this.#commitInOneStatement(batch)
            : await this.#db.transaction((tx) => this.#commit(tx, batch));
      } catch (error) {
        this.#usage.reset(); // it counted grants that never happened
        for (const item of batch) item.reject(error);
        continue;
      }
      batch.forEach((item, i) => {
        const o = outcomes[i]!;
        if (o.ok) item.resolve(o.upload);
        else item.reject(o.error);
      });
    }
    this.#flushers--;
  }

  /**
   * SQLite: one batch in a handful of statements whatever its size: usage (the ledger), decisions
   * in memory, one INSERT each for the uploads and their audit rows.
   */
  async #commit(tx: Executor, batch: Pending[]): Promise<Outcome[]> {
    const now = this.#clock();
    const usage = await this.#usage.read(
      tx,
      batch.map((item) => item.grant.userId),
      now,
    );
    const outcomes: Outcome[] = [];
    const admitted: Upload[] = [];
    for (const { grant, limits } of batch) {
      try {
        const used = usage.get(grant.userId)!;
        enforceQuota(used, limits, grant.declaredSize, now);
        chargeUsage(used, grant.declaredSize, grant.expiresAt, now);
        const upload = newUpload(grant, now);
        admitted.push(upload);
        outcomes.push({ ok: true, upload });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (admitted.length > 0) {
      // No RETURNING: every column is known here, and materialising rows back costs more than it tells.
      await tx.run(`${INSERT} ${admitted.map(() => ROW).join(', ')}`, admitted.flatMap(rowParams));
      await appendAudit(
        tx,
        batch.filter((_, i) => outcomes[i]!.ok).map(({ grant }) => grantedAudit(grant)),
        now,
      );
      this.#usage.inserted(admitted);
    }
    return outcomes;
  }

  /**
   * PostgreSQL: the database decides and inserts the whole batch in one statement
   * (grant-batch.ts); the decisions are replayed here from the usage it read, so a refusal is
   * enforceQuota's own error (its quota, message and Retry-After).
   */
  async #commitInOneStatement(batch: Pending[]): Promise<Outcome[]> {
    const now = this.#clock();
    const items = batch.map(({ grant, limits }) => ({
      upload: newUpload(grant, now),
      limits,
      audit: grantedAudit(grant),
    }));
    const { usage, admitted } = await commitGrantBatch(this.#db, items, now);
    return items.map(({ upload, limits }, i): Outcome => {
      const used = usage.get(upload.userId)!;
      if (admitted[i]) {
        chargeUsage(used, upload.declaredSize, upload.expiresAt, now);
        return { ok: true, upload };
      }
      try {
        enforceQuota(used, limits, upload.declaredSize, now);
      } catch (error) {
        return { ok: false, error };
      }
      // Only if chute_grant_batch and enforceQuota stopped agreeing: a bug, never a 429.
      return {
        ok: false,
        error: new Error(`the database refused grant ${upload.id}, which enforceQuota admits`),
      };
    });
  }
}

function grantedAudit(grant: NewGrant): NewAuditEntry {
  return {
    uploadId: grant.id,
    by: grant.by ?? { id: grant.userId, role: 'uploader' },
    action: 'granted',
    fromState: null,
    toState: 'granted',
    detail: { route: grant.route, size: grant.declaredSize, type: grant.declaredType },
  };
}
