/**
 * The gateway's wire shapes as the client reads them (packages/gateway/src/http/schemas.ts is the
 * source of truth: Grant, PartUrls, StoredParts, UploadView).
 */

interface GrantCommon {
  /** The upload id (`up_…`). */
  id: string;
  key: string;
  /** ISO 8601, on the gateway's clock. */
  expiresAt: string;
  /** The gateway's clock when it signed: judge expiry by `expiresAt - serverTime`, never by ours. */
  serverTime: string;
}

export interface PostGrant extends GrantCommon {
  method: 'post';
  url: string;
  /** Form fields in order, before `file` (which must be last). */
  fields: Record<string, string>;
}

export interface PutGrant extends GrantCommon {
  method: 'put';
  url: string;
  /** Signed headers, sent verbatim (content-length comes from the body). */
  headers: Record<string, string>;
}

/** One part URL: a presigned UploadPart with its Content-Length signed. */
export interface PartUrl {
  /** 1-based, as S3 numbers parts. */
  number: number;
  /** The exact bytes this part must carry (its Content-Length is signed). */
  size: number;
  url: string;
}

/** A part storage already holds (for resume). */
export interface StoredPart {
  number: number;
  etag: string;
  size: number;
}

/** `GET /v1/uploads/{id}/parts`: the plan, and what storage holds now (ListParts). */
export interface StoredParts {
  partSize: number;
  partCount: number;
  parts: StoredPart[];
}

export interface MultipartGrant extends GrantCommon {
  method: 'multipart';
  /** The object's URL (informational: each part has its own URL). */
  url: string;
  /** Storage's UploadId of the CreateMultipartUpload the gateway made. */
  uploadId: string;
  /** Bytes of every part but the last (S3: 5 MiB … 5 GiB). */
  partSize: number;
  /** ceil(size / partSize), ≤ 10,000. */
  partCount: number;
  /** The first URLs (a prefix of 1..partCount, ≤ 100); more from `POST /v1/uploads/{id}/parts`. */
  parts: PartUrl[];
  /**
   * When these part URLs expire, on the gateway's clock (the route's grant lifetime); the grant
   * itself (`expiresAt`) lives 24 h, and part URLs are signed again on request.
   */
  partsExpireAt: string;
}

export type Grant = PostGrant | PutGrant | MultipartGrant;

/** `POST /v1/uploads/{id}/parts?from=&count=` (count ≤ 1000). */
export interface PartUrls {
  parts: PartUrl[];
  expiresAt: string;
  serverTime: string;
}

export type UploadState =
  | 'granted'
  | 'uploaded'
  | 'verified'
  | 'pending_review'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'withdrawn';

/** What complete and `GET /v1/uploads/{id}` answer. */
export interface Upload {
  id: string;
  userId: string;
  route: string;
  state: UploadState | (string & {});
  method: 'post' | 'put' | 'multipart';
  filename: string;
  contentType: string;
  size: number;
  createdAt: string;
  expiresAt: string;
  completedAt?: string;
  reason?: string;
  file?: { type: string; size: number; width?: number; height?: number; download: string };
}

export interface GrantRequest {
  route: string;
  filename: string;
  contentType: string;
  size: number;
  checksum?: string;
  method?: 'post' | 'put' | 'multipart';
}

export interface Progress {
  /** File bytes sent so far (may go back when a request is retried). */
  loaded: number;
  total: number;
}
