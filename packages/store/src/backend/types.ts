/**
 * The storage contract the S3 operations are written against. The filesystem implementation is
 * in fs.ts; another backend (memory, a database) would implement the same interface.
 * Everything here has already been authorised and validated by the operation; the backend only
 * stores, and keeps its own invariants (atomic visibility, last writer wins, no leaks).
 */

export type CannedAcl = 'private' | 'public-read' | 'public-read-write' | 'authenticated-read';
export const CANNED_ACLS: readonly CannedAcl[] = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
];

/** Canned ACLs an object can carry ("Canned ACL" in the Access control list overview). */
export type ObjectCannedAcl = CannedAcl | 'aws-exec-read' | 'bucket-owner-read' | 'bucket-owner-full-control';
export const OBJECT_CANNED_ACLS: readonly ObjectCannedAcl[] = [
  ...CANNED_ACLS,
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
];

export interface BucketInfo {
  name: string;
  created: number;
  acl: CannedAcl;
  /** LocationConstraint given at creation ('' = us-east-1 style default). */
  location: string;
  /** Free-form per-bucket settings owned by other features (e.g. `cors`), persisted with the bucket. */
  settings: Record<string, unknown>;
}

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256';

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64, as S3 returns it (`x-amz-checksum-crc32: …`). Composite values end in `-N`. */
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** What the operation decides about a new object (everything but where its bytes live). */
export interface ObjectAttrs {
  contentType: string;
  /** content-encoding, content-disposition, content-language, cache-control, expires. */
  headers: Record<string, string>;
  /** x-amz-meta-* with the prefix removed, names lowercased. */
  userMeta: Record<string, string>;
  checksum?: StoredChecksum;
  /** The object's canned ACL when it is not `private` (x-amz-acl on PUT, the `acl` POST field). */
  acl?: ObjectCannedAcl;
  /** The object's tag set, in the order given ([key, value] pairs, keys unique). */
  tags?: [string, string][];
}

export interface ObjectMeta extends ObjectAttrs {
  key: string;
  size: number;
  /** Hex MD5 (or `md5-of-md5s-N` for multipart), without quotes. */
  etag: string;
  lastModified: number;
  /** Number of parts when the object came from a multipart upload. */
  partsCount?: number;
  /** Backend-private reference to the bytes. */
  blob: string;
}

/** A stream of bytes being written to a new, not yet visible blob. */
export interface BlobWriter {
  /**
   * Queue bytes. Returns a promise when the caller must wait (bounded writes in flight, or the
   * chunk not yet all taken): the next write() must not come before it settles.
   */
  write(chunk: Buffer): Promise<void> | undefined;
  /** Flush and make durable; afterwards the blob can be committed. */
  finish(): Promise<{ size: number }>;
  /** Discard (idempotent; safe after finish when the commit is refused). */
  abort(): Promise<void>;
  /** The body has ended: hands anything still staged to the disk and the span observer now. */
  flush?(): void;
  /**
   * Offered by writers that stage a large body in shared memory: `fn` sees every span of the
   * blob in order, before it is written (`span.buffer` is a SharedArrayBuffer another thread may
   * read), and the span's memory is not reused until the promise `fn` returns settles. A rejected
   * promise fails the blob.
   */
  onSpan?(fn: (span: Buffer) => Promise<void>): void;
}

export interface ListOptions {
  prefix: string;
  delimiter: string;
  /** Only entries strictly after this key or common prefix. */
  after: string;
  maxKeys: number;
}

export type ListEntry = { kind: 'object'; meta: ObjectMeta } | { kind: 'prefix'; prefix: string };

export interface ListResult {
  entries: ListEntry[];
  isTruncated: boolean;
}

export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  attrs: ObjectAttrs;
  /** Algorithm declared at CreateMultipartUpload (x-amz-checksum-algorithm), if any. */
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface PartInfo {
  partNumber: number;
  size: number;
  /** Hex MD5 without quotes. */
  etag: string;
  lastModified: number;
  checksum?: StoredChecksum;
  blob: string;
}

export interface ReadHandle {
  meta: ObjectMeta;
  /** Stream bytes [start, end] inclusive (closes the handle at the end). */
  stream(start: number, end: number): NodeJS.ReadableStream;
  /**
   * Writes bytes [start, end] to `dest` with socket backpressure, from a few reused buffers
   * (no per-chunk allocation). Closes the handle. Rejects if `dest` closes early.
   */
  writeTo(dest: NodeJS.WritableStream & { destroyed?: boolean }, start: number, end: number): Promise<void>;
  close(): Promise<void>;
}

export interface Backend {
  listBuckets(): BucketInfo[];
  getBucket(name: string): BucketInfo | undefined;
  /** Throws BucketAlreadyOwnedByYou if it exists. */
  createBucket(name: string, init: { acl: CannedAcl; location: string }): Promise<BucketInfo>;
  updateBucket(
    name: string,
    patch: { acl?: CannedAcl; settings?: Record<string, unknown> },
  ): Promise<BucketInfo>;
  /** Throws NoSuchBucket / BucketNotEmpty. */
  deleteBucket(name: string): Promise<void>;

  headObject(bucket: string, key: string): ObjectMeta | undefined;
  /** Opens the current version so a concurrent overwrite cannot change the bytes being read. */
  openObject(bucket: string, key: string): Promise<ReadHandle | undefined>;
  /** `sizeHint`: the bytes announced (Content-Length), when known; large blobs are staged. */
  newBlob(bucket: string, sizeHint?: number): Promise<BlobWriter>;
  /** Makes a finished blob visible under key, atomically; the previous version is released. */
  commitObject(
    bucket: string,
    key: string,
    blob: BlobWriter,
    fields: ObjectAttrs & { size: number; etag: string; partsCount?: number },
    /** Checked against the current version under the key's commit lock (conditional writes). */
    precondition?: (current: ObjectMeta | undefined) => void,
  ): Promise<ObjectMeta>;
  /** Copies without copying bytes; `attrs` replaces the source's when given. */
  copyObject(
    src: { bucket: string; key: string; ifEtag?: string },
    dst: { bucket: string; key: string },
    attrs?: ObjectAttrs,
  ): Promise<ObjectMeta>;
  /** Replaces the tag set of the current version (same bytes, ETag and Last-Modified). */
  retagObject(bucket: string, key: string, tags: [string, string][]): Promise<ObjectMeta>;
  /** True if something was deleted. */
  deleteObject(bucket: string, key: string): Promise<boolean>;
  listObjects(bucket: string, opts: ListOptions): ListResult;
  countObjects(bucket: string): number;

  createUpload(init: Omit<UploadInfo, 'uploadId' | 'initiated'>): Promise<UploadInfo>;
  getUpload(bucket: string, uploadId: string): UploadInfo | undefined;
  listUploads(bucket: string): UploadInfo[];
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: number,
    blob: BlobWriter,
    fields: Omit<PartInfo, 'blob' | 'lastModified' | 'partNumber'>,
  ): Promise<PartInfo>;
  listParts(bucket: string, uploadId: string): PartInfo[];
  /**
   * Concatenates the given parts (already validated by the caller) into one new object and
   * removes the upload. Throws NoSuchUpload when it was aborted or completed meanwhile.
   */
  completeUpload(
    bucket: string,
    uploadId: string,
    parts: PartInfo[],
    fields: { etag: string; checksum?: StoredChecksum },
  ): Promise<ObjectMeta>;
  abortUpload(bucket: string, uploadId: string): Promise<void>;

  /** Resolves once the bytes of every replaced or deleted version are gone (done after answers). */
  released(): Promise<void>;
  close(): Promise<void>;
}
