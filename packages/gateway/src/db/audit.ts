import { newSortableId } from '../domain/ids.ts';
import type { Driver, Executor, SqlValue } from './driver.ts';
import type { UploadState } from './types.ts';

/** Who made a change: a user (with the role they acted in) or the gateway itself. */
export interface Actor {
  readonly id: string;
  readonly role: 'uploader' | 'reviewer' | 'admin' | 'system';
  /** The API request that made the change, when one did. */
  readonly requestId?: string | undefined;
}

/** The gateway's own changes: the completer's bookkeeping, the sweeper. */
export const SYSTEM: Actor = { id: 'system', role: 'system' };

/** What an audit row records; a closed list, so the trail reads the same across versions. */
export const AUDIT_ACTIONS = [
  'granted',
  'upload_seen',
  'claim_released',
  'verified',
  'rejected',
  'approved',
  'review_rejected',
  'published',
  'retired',
  'withdrawn',
  'expired',
  'purged',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  id: string;
  uploadId: string;
  at: number;
  actor: string;
  actorRole: Actor['role'];
  action: AuditAction;
  fromState: UploadState | null;
  toState: UploadState;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

export interface NewAuditEntry {
  uploadId: string;
  by: Actor;
  action: AuditAction;
  fromState: UploadState | null;
  toState: UploadState;
  detail?: Record<string, unknown> | undefined;
}

const INSERT = `INSERT INTO audit (id, upload_id, at, actor, actor_role, action, from_state, to_state, request_id, detail) VALUES`;
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * Appends audit rows inside the caller's transaction: the trail is written by the same
 * transaction as the change it records, so it has exactly the changes that happened.
 */
export async function appendAudit(
  tx: Executor,
  entries: readonly NewAuditEntry[],
  now: number,
): Promise<void> {
  if (entries.length === 0) return;
  const params: SqlValue[] = [];
  for (const e of entries) {
    params.push(
      newSortableId('au', now),
      e.uploadId,
      now,
      e.by.id,
      e.by.role,
      e.action,
      e.fromState,
      e.toState,
      e.by.requestId ?? null,
      e.detail === undefined ? null : JSON.stringify(e.detail),
    );
  }
  await tx.run(`${INSERT} ${entries.map(() => ROW).join(', ')}`, params);
}

/** Reading the trail. Nothing here (or anywhere) updates or deletes it: triggers refuse both. */
export class AuditTrail {
  readonly #db: Driver;

  constructor(db: Driver) {
    this.#db = db;
  }

  /** One upload's history, oldest first. */
  async forUpload(uploadId: string): Promise<AuditEntry[]> {
    const rows = await this.#db.all<Record<string, unknown>>(
      'SELECT * FROM audit WHERE upload_id = ? ORDER BY at, id',
      [uploadId],
    );
    return rows.map((r) => ({
      id: String(r.id),
      uploadId: String(r.upload_id),
      at: Number(r.at),
      actor: String(r.actor),
      actorRole: r.actor_role as Actor['role'],
      action: r.action as AuditAction,
      fromState: (r.from_state as UploadState | null) ?? null,
      toState: r.to_state as UploadState,
      requestId: (r.request_id as string | null) ?? null,
      detail: r.detail === null || r.detail === undefined ? null : JSON.parse(String(r.detail)),
    }));
  }
}
