/**
 * The one storage interface the gateway talks to. Implemented once, over the S3 protocol
 * (s3.ts), so the embedded store, Ceph RGW, MinIO, AWS S3 and R2 are the same code path. The
 * gateway never touches a store's files: everything it knows about an object comes from here.
 */
import type { PostCondition } from '@chute/sigv4';

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
}
