import type { RejectionReason } from '@chute/errors';

export const UPLOAD_STATES = [
  'granted',
  'uploaded',
  'verified',
  'pending_review',
  'approved',
  'rejected',
  'expired',
] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

export type UploadMethod = 'post' | 'put' | 'multipart';

/** One upload, as the rest of the gateway sees it. Times are epoch ms. */
export interface Upload {
  id: string;
  userId: string;
  route: string;
  /** Fingerprint of the rule the grant was signed under (FrozenRules); null for rows older than that. */
  ruleHash: string | null;
  state: UploadState;
  method: UploadMethod;
  incomingKey: string;
  fileKey: string | null;
  filename: string;
  declaredType: string;
  declaredSize: number;
  /** Base64 SHA-256 the client declared, if any. */
  checksum: string | null;
  detectedType: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
  reason: RejectionReason | null;
  createdAt: number;
  expiresAt: number;
  completedAt: number | null;
  updatedAt: number;
}

export interface NewGrant {
  id: string;
  userId: string;
  route: string;
  ruleHash: string;
  method: UploadMethod;
  incomingKey: string;
  filename: string;
  declaredType: string;
  declaredSize: number;
  checksum?: string | undefined;
  expiresAt: number;
}

export interface QuotaLimits {
  pendingGrants: number;
  bytesPerDay: number;
  grantsPerMinute: number;
}

/** Fields a transition may set besides the state (the state machine's data, nothing else). */
export interface TransitionFields {
  fileKey?: string | null;
  detectedType?: string | null;
  size?: number | null;
  width?: number | null;
  height?: number | null;
  reason?: RejectionReason | null;
  completedAt?: number | null;
}

export interface NewEvent {
  type: string;
  uploadId?: string | undefined;
  payload: unknown;
}

export interface OutboxEvent {
  id: string;
  type: string;
  uploadId: string | null;
  payload: unknown;
  createdAt: number;
  deliveredAt: number | null;
  attempts: number;
  nextAttemptAt: number;
}

export interface ListQuery {
  /** Only this user's uploads; omit for everyone's (admins, reviewers). */
  userId?: string | undefined;
  states?: readonly UploadState[] | undefined;
  /** 1..100; default 50. */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Present when there may be more. */
  nextCursor?: string;
}
