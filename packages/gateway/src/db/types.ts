import type { RejectionReason } from '@chute/errors';
import type { Actor } from './audit.ts';

export const UPLOAD_STATES = [
  'granted',
  'uploaded',
  'verified',
  'pending_review',
  'approved',
  'rejected',
  'expired',
  'withdrawn',
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
  /** The state before the last transition (what the audit row's from_state records). */
  previousState: UploadState | null;
  /** The reviewer's decision, once made. */
  reviewedBy: string | null;
  reviewedAt: number | null;
  /** A rejecting reviewer's reason code (from the route's list) and note. */
  reviewReason: string | null;
  reviewNote: string | null;
  /** Where the approved file was published, once it was; null again once retired. */
  publishedKey: string | null;
  publishedAt: number | null;
  /** When a newer approval of the same user and route took its place (keepOne routes). */
  retiredAt: number | null;
  /** A rejected file's frozen copy is deleted after this (the route's retention); then purgedAt. */
  purgeAt: number | null;
  purgedAt: number | null;
  /** Multipart grants: storage's upload id, and the planned part size (the last part is smaller). */
  multipartId: string | null;
  partSize: number | null;
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
  /** Who asked (the audit trail); default the user, as an uploader. */
  by?: Actor | undefined;
  multipartId?: string | undefined;
  partSize?: number | undefined;
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
  reviewedBy?: string | null;
  reviewedAt?: number | null;
  reviewReason?: string | null;
  reviewNote?: string | null;
  publishedKey?: string | null;
  publishedAt?: number | null;
  retiredAt?: number | null;
  purgeAt?: number | null;
  purgedAt?: number | null;
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
}

/**
 * waiting: an earlier event of the same upload is still open for this endpoint; pending: due at
 * nextAttemptAt; delivered and dead are final.
 */
export type DeliveryState = 'waiting' | 'pending' | 'delivered' | 'dead';

/** One event owed to one webhook endpoint, and what became of it so far. */
export interface Delivery {
  eventId: string;
  endpointId: string;
  uploadId: string | null;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  /** When the event was written (the age of an undelivered one counts from here). */
  createdAt: number;
  deliveredAt: number | null;
  deadAt: number | null;
}

/** A delivery due for an attempt, with what the request is made of. */
export interface DueDelivery {
  eventId: string;
  endpointId: string;
  uploadId: string | null;
  attempts: number;
  type: string;
  /** The event's payload exactly as stored (JSON text), sent unchanged as `data`. */
  payload: string;
  eventCreatedAt: number;
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
