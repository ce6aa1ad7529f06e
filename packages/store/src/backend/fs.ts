import type { FileBlob } from './file-blob.ts';
import * as buckets from './fs/buckets.ts';
import * as list from './fs/list.ts';
import * as multipart from './fs/multipart.ts';
import * as objects from './fs/objects.ts';
import { recover } from './fs/recover.ts';
import { FsState } from './fs/state.ts';
import type {
  Backend,
  BlobWriter,
  BucketInfo,
  CannedAcl,
  ListOptions,
  ListResult,
  ObjectAttrs,
  ObjectMeta,
  PartInfo,
  ReadHandle,
  StoredChecksum,
  UploadInfo,
} from './types.ts';

/**
 * The filesystem backend: a crash-safe data directory (layout and commit protocol in
 * fs/state.ts). Each job lives in its own file under fs/, as the ops it serves do: recovery at
 * start, buckets, objects (read, write, copy, delete), listing, multipart uploads, range sends.
 */
export class FsBackend implements Backend {
  readonly root: string;
  readonly #s: FsState;

  private constructor(root: string) {
    this.root = root;
    this.#s = new FsState(root);
  }

  /** Opens (creating if needed) a data dir, recovering from any crash: see the layout note. */
  static async open(root: string): Promise<FsBackend> {
    const b = new FsBackend(root);
    await recover(b.#s);
    return b;
  }

  listBuckets(): BucketInfo[] {
    return buckets.listBuckets(this.#s);
  }

  getBucket(name: string): BucketInfo | undefined {
    return buckets.getBucket(this.#s, name);
  }

  createBucket(name: string, init: { acl: CannedAcl; location: string }): Promise<BucketInfo> {
    return buckets.createBucket(this.#s, name, init);
  }

  updateBucket(
    name: string,
    patch: { acl?: CannedAcl; settings?: Record<string, unknown> },
  ): Promise<BucketInfo> {
    return buckets.updateBucket(this.#s, name, patch);
  }

  deleteBucket(name: string): Promise<void> {
    return buckets.deleteBucket(this.#s, name);
  }

  headObject(bucket: string, key: string): ObjectMeta | undefined {
    return objects.headObject(this.#s, bucket, key);
  }

  openObject(bucket: string, key: string): Promise<ReadHandle | undefined> {
    return objects.openObject(this.#s, bucket, key);
  }

  newBlob(bucket: string, sizeHint = 0): Promise<FileBlob> {
    return objects.newBlob(this.#s, bucket, sizeHint);
  }

  commitObject(
    bucket: string,
    key: string,
    blob: BlobWriter,
    fields: ObjectAttrs & { size: number; etag: string; partsCount?: number },
    precondition?: (current: ObjectMeta | undefined) => void,
  ): Promise<ObjectMeta> {
    return objects.commitObject(this.#s, bucket, key, blob, fields, precondition);
  }

  copyObject(
    src: { bucket: string; key: string; ifEtag?: string },
    dst: { bucket: string; key: string },
    attrs?: ObjectAttrs,
  ): Promise<ObjectMeta> {
    return objects.copyObject(this.#s, src, dst, attrs);
  }

  retagObject(bucket: string, key: string, tags: [string, string][]): Promise<ObjectMeta> {
    return objects.retagObject(this.#s, bucket, key, tags);
  }

  deleteObject(bucket: string, key: string): Promise<boolean> {
    return objects.deleteObject(this.#s, bucket, key);
  }

  listObjects(bucket: string, opts: ListOptions): ListResult {
    return list.listObjects(this.#s, bucket, opts);
  }

  countObjects(bucket: string): number {
    return list.countObjects(this.#s, bucket);
  }

  createUpload(init: Omit<UploadInfo, 'uploadId' | 'initiated'>): Promise<UploadInfo> {
    return multipart.createUpload(this.#s, init);
  }

  getUpload(bucket: string, uploadId: string): UploadInfo | undefined {
    return multipart.getUpload(this.#s, bucket, uploadId);
  }

  listUploads(bucket: string): UploadInfo[] {
    return multipart.listUploads(this.#s, bucket);
  }

  putPart(
    bucket: string,
    uploadId: string,
    partNumber: number,
    blob: BlobWriter,
    fields: Omit<PartInfo, 'blob' | 'lastModified' | 'partNumber'>,
  ): Promise<PartInfo> {
    return multipart.putPart(this.#s, bucket, uploadId, partNumber, blob, fields);
  }

  listParts(bucket: string, uploadId: string): PartInfo[] {
    return multipart.listParts(this.#s, bucket, uploadId);
  }

  completeUpload(
    bucket: string,
    uploadId: string,
    parts: PartInfo[],
    fields: { etag: string; checksum?: StoredChecksum },
  ): Promise<ObjectMeta> {
    return multipart.completeUpload(this.#s, bucket, uploadId, parts, fields);
  }

  abortUpload(bucket: string, uploadId: string): Promise<void> {
    return multipart.abortUpload(this.#s, bucket, uploadId);
  }

  /** Resolves once the blob of every replaced or deleted version is gone. */
  released(): Promise<void> {
    return this.#s.released();
  }

  close(): Promise<void> {
    return this.#s.released();
  }
}
