/**
 * The one storage interface the gateway talks to. Implemented once, over the S3 protocol
 * (s3.ts), so the embedded store, Ceph RGW, MinIO, AWS S3 and R2 are the same code path. The
 * gateway never touches a store's files: everything it knows about an object comes from here.
 */
import type { PostCondition } from '@chute/sigv4';

/** Where and as whom the gateway reaches storage (the config's `storage` section). */
export interface StorageSettings {
  /** Where the gateway reaches storage, e.g. http://127.0.0.1:9000. */
  readonly endpoint: string;
  /** Where browsers reach storage, when it differs (a proxy, a public hostname). */
  readonly publicEndpoint?: string | undefined;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`). */
  readonly forcePathStyle: boolean;
}

export interface ObjectHead {
  size: number;
  /** Quoted, as S3 sends it; used to pin a copy to the bytes that were verified. */
  etag: string;
  contentType: string | undefined;
  /** `x-amz-meta-*` headers, names lowercased without the prefix. */
  metadata: Record<string, string>;
  /** Base64 SHA-256 when storage kept one and `checksum: true` was asked (x-amz-checksum-mode). */
  checksumSha256: string | undefined;
  lastModified: number | undefined;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: number;
}

export interface ListPage {
  objects: ListedObject[];
  /** Pass to the next list() call; absent on the last page. */
  continuation?: string;
}

export interface PresignPutInput {
  key: string;
  /** Headers the client must send verbatim (signed): content-type, content-length, x-amz-meta-*, … */
  headers: Record<string, string>;
  expiresIn: number;
}

export interface PresignGetInput {
  key: string;
  expiresIn: number;
  /** `response-content-disposition` / `response-content-type` overrides, signed into the URL. */
  responseContentDisposition?: string;
  responseContentType?: string;
}

/** A POST policy condition as S3 reads it (defined once, in @chute/sigv4). */
export type FormCondition = PostCondition;

export interface PostFormInput {
  key: string;
  conditions: readonly FormCondition[];
  /** Form fields that go with the conditions (each must be covered by one). */
  fields: Record<string, string>;
  expiresIn: number;
}

export interface PostForm {
  url: string;
  /** Every field the form must carry, in order; the file goes last. */
  fields: Record<string, string>;
}

export interface CopyOptions {
  /** Copy only if the source still has this ETag (x-amz-copy-source-if-match). */
  ifMatch?: string;
  /** The source's size: above 5 GiB (CopyObject's limit) the copy goes part by part (UploadPartCopy). */
  size?: number;
}

/** A part storage holds of a multipart upload. */
export interface StoredPart {
  number: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  size: number;
}

export interface PresignPartInput {
  key: string;
  uploadId: string;
  partNumber: number;
  /** The part's exact size: signed as Content-Length, so storage refuses any other. */
  size: number;
  expiresIn: number;
}

export interface MultipartUploadEntry {
  key: string;
  uploadId: string;
  initiated: number;
}

export interface MultipartListing {
  uploads: MultipartUploadEntry[];
  /** Pass to the next call; absent on the last page. */
  next?: { keyMarker: string; uploadIdMarker: string };
}

export interface Storage {
  readonly bucket: string;
  /** undefined when there is no such object (404). */
  head(key: string, options?: { checksum?: boolean }): Promise<ObjectHead | undefined>;
  /**
   * Bytes `start..end` (inclusive) — at most `end - start + 1` of them, even if the server
   * ignores the Range and sends the whole object. Empty when the object is shorter than `start`.
   * Throws StorageError NoSuchKey when the object is missing.
   */
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  /** The whole object as a stream (for hashing); never buffered. */
  getStream(key: string): Promise<ReadableStream<Uint8Array>>;
  /** Server-side copy within the bucket: no bytes pass through the gateway. */
  copy(from: string, to: string, options?: CopyOptions): Promise<void>;
  /** Deleting a missing key succeeds, as in S3. */
  delete(key: string): Promise<void>;
  list(prefix: string, continuation?: string): Promise<ListPage>;
  /** A presigned PUT URL for the browser (public endpoint). */
  presignPut(input: PresignPutInput): string;
  /** A presigned GET URL for the browser (public endpoint). */
  presignGet(input: PresignGetInput): string;
  /** A signed POST policy form for the browser (public endpoint). */
  postForm(input: PostFormInput): PostForm;
  /** The object's URL as browsers reach it (unsigned: naming it grants nothing). */
  objectUrl(key: string): string;
  /** Starts a multipart upload at `key` with these headers (content-type, x-amz-meta-*); its id. */
  createMultipart(key: string, headers: Record<string, string>): Promise<string>;
  /** A presigned UploadPart URL whose Content-Length is signed. */
  presignPart(input: PresignPartInput): string;
  /** The parts storage holds, by number; undefined when the upload is gone (completed or aborted). */
  listParts(key: string, uploadId: string): Promise<StoredPart[] | undefined>;
  /** Assembles the listed parts into the object at `key`. */
  completeMultipart(key: string, uploadId: string, parts: readonly StoredPart[]): Promise<void>;
  /** Aborts the upload and frees its parts; an upload already gone is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** Multipart uploads in progress under `prefix` (the sweeper's strays). */
  listMultipartUploads(prefix: string, marker?: MultipartListing['next']): Promise<MultipartListing>;
}
