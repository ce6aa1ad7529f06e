import type { Delivery, DeliveryState, OutboxEvent, TransitionFields, Upload } from './types.ts';

/** Column ↔ field names, the one place they are spelled out. */
export const UPLOAD_COLUMNS = {
  id: 'id',
  userId: 'user_id',
  route: 'route',
  ruleHash: 'rule_hash',
  state: 'state',
  method: 'method',
  incomingKey: 'incoming_key',
  fileKey: 'file_key',
  filename: 'filename',
  declaredType: 'declared_type',
  declaredSize: 'declared_size',
  checksum: 'checksum',
  detectedType: 'detected_type',
  size: 'size',
  width: 'width',
  height: 'height',
  reason: 'reason',
  createdAt: 'created_at',
  expiresAt: 'expires_at',
  completedAt: 'completed_at',
  updatedAt: 'updated_at',
  previousState: 'previous_state',
  reviewedBy: 'reviewed_by',
  reviewedAt: 'reviewed_at',
  reviewReason: 'review_reason',
  reviewNote: 'review_note',
  publishedKey: 'published_key',
  publishedAt: 'published_at',
  retiredAt: 'retired_at',
  purgeAt: 'purge_at',
  purgedAt: 'purged_at',
  multipartId: 'multipart_id',
  partSize: 'part_size',
} as const satisfies Record<keyof Upload, string>;

/** The fields a transition may set (every field of TransitionFields: the check below fails otherwise). */
const TRANSITION_FIELDS = [
  'fileKey',
  'detectedType',
  'size',
  'width',
  'height',
  'reason',
  'completedAt',
  'reviewedBy',
  'reviewedAt',
  'reviewReason',
  'reviewNote',
  'publishedKey',
  'publishedAt',
  'retiredAt',
  'purgeAt',
  'purgedAt',
] as const satisfies readonly (keyof TransitionFields)[];
const allTransitionFields: Exclude<keyof TransitionFields, (typeof TRANSITION_FIELDS)[number]> extends never
  ? true
  : never = true;
void allTransitionFields;

/** The only columns a transition may write: keys are checked against this list, never interpolated raw. */
export const TRANSITION_COLUMNS = Object.fromEntries(
  TRANSITION_FIELDS.map((field) => [field, UPLOAD_COLUMNS[field]]),
) as Readonly<Record<keyof TransitionFields, string>>;

const NUMERIC = new Set([
  'declared_size',
  'size',
  'width',
  'height',
  'created_at',
  'expires_at',
  'completed_at',
  'updated_at',
  'reviewed_at',
  'published_at',
  'retired_at',
  'purge_at',
  'purged_at',
  'part_size',
]);

export function toUpload(row: Record<string, unknown>): Upload {
  const out: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(UPLOAD_COLUMNS)) {
    const v = row[column];
    out[field] = v === null || v === undefined ? null : NUMERIC.has(column) ? Number(v) : v;
  }
  return out as unknown as Upload;
}

export function toEvent(row: Record<string, unknown>): OutboxEvent {
  return {
    id: String(row.id),
    type: String(row.type),
    uploadId: (row.upload_id as string | null) ?? null,
    payload: JSON.parse(String(row.payload)),
    createdAt: Number(row.created_at),
  };
}

const numberOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toDelivery(row: Record<string, unknown>): Delivery {
  return {
    eventId: String(row.event_id),
    endpointId: String(row.endpoint_id),
    uploadId: (row.upload_id as string | null) ?? null,
    state: row.state as DeliveryState,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastStatus: numberOrNull(row.last_status),
    lastError: (row.last_error as string | null) ?? null,
    createdAt: Number(row.created_at),
    deliveredAt: numberOrNull(row.delivered_at),
    deadAt: numberOrNull(row.dead_at),
  };
}
