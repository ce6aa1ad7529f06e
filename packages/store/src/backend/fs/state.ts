import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import { S3Error } from '@chute/errors';
import { lowerBound } from '../../keys.ts';
import { fsyncDir, writeDurable } from '../durable.ts';
import { KeyedLock } from '../lock.ts';
import { safeJoin } from '../paths.ts';
import { RingPool } from '../ring.ts';
import type { DirectIo } from '../staged-writer.ts';
import type { BucketInfo, ObjectMeta, PartInfo, UploadInfo } from '../types.ts';

/*
 * On-disk layout (everything under dataDir; no name on disk is ever derived from user text
 * except a bucket name, which S3's naming rules restrict to [a-z0-9.-]):
 *
 *   tmp/                                  scratch; emptied at start
 *   buckets/<bucket>/bucket.json          BucketInfo
 *   buckets/<bucket>/blobs/<id>           immutable object/part bytes, random 32-hex ids
 *   buckets/<bucket>/meta/<hh>/<sha256(key)>.json   ObjectMeta: the commit record of one key
 *   buckets/<bucket>/uploads/<uploadId>/upload.json UploadInfo
 *   buckets/<bucket>/uploads/<uploadId>/part-<n>.json PartInfo (points at a blob)
 *
 * Commit protocol (PUT, copy, complete): bytes go to a fresh blob (fdatasync'd, its directory
 * fsync'd); the metadata record is written to tmp/ and fdatasync'd, then renamed over
 * meta/<hh>/<hash>.json — the single atomic commit point — and that directory is fsync'd. Only
 * then is the previous version's blob unlinked. A crash at any step leaves either the old
 * record or the new one, never a mix; a blob no record points to is garbage, and start-up
 * removes it (and empties tmp/). Commits of one key are serialised in-process so the record
 * that lands last is the one whose predecessor gets released: last writer wins, nothing leaks.
 */

export const READ_HWM = 1 << 20;

export interface BucketState {
  info: BucketInfo;
  /** All keys in UTF-8 binary order (S3 listing order). */
  keys: string[];
  objects: Map<string, ObjectMeta>;
  uploads: Map<string, { info: UploadInfo; parts: Map<number, PartInfo> }>;
}

export const newId = (): string => randomBytes(16).toString('hex');
export const keyHash = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');
export const isId = (s: string): boolean => /^[0-9a-f]{32}$/.test(s);

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * What every part of the filesystem backend shares: the data dir, the in-memory index of
 * buckets, keys and uploads, the per-key locks, and the commit of one key's record (the single
 * atomic step every write ends in).
 */
export class FsState {
  readonly root: string;
  readonly tmp: string;
  readonly buckets = new Map<string, BucketState>();
  readonly lock = new KeyedLock();
  readonly rings = new RingPool();
  readonly directIo: DirectIo = { enabled: true };
  readonly #releasing = new Set<Promise<void>>();

  constructor(root: string) {
    this.root = root;
    this.tmp = safeJoin(root, 'tmp');
  }

  p(...segments: string[]): string {
    return safeJoin(this.root, ...segments);
  }

  bucket(name: string): BucketState {
    const b = this.buckets.get(name);
    if (!b) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
    return b;
  }

  /** Writes the record and swaps it in; the blob of the version it replaced is released. */
  async commit(bucket: string, meta: ObjectMeta): Promise<void> {
    const b = this.bucket(bucket);
    const h = keyHash(meta.key);
    const tmp = safeJoin(this.tmp, `${newId()}.json`);
    await writeDurable(tmp, JSON.stringify(meta));
    const dir = this.p('buckets', bucket, 'meta', h.slice(0, 2));
    await fsp.rename(tmp, safeJoin(dir, `${h}.json`));
    await fsyncDir(dir);
    const prev = b.objects.get(meta.key);
    b.objects.set(meta.key, meta);
    if (!prev) b.keys.splice(lowerBound(b.keys, meta.key), 0, meta.key);
    else if (prev.blob !== meta.blob) this.release(bucket, prev.blob);
  }

  /**
   * Removes a replaced version's blob without holding up the answer or the key's next commit
   * (unlinking 1 GiB takes ext4 ~0.1 s): the new record is already durable, and a crash before
   * the unlink leaves garbage that start-up removes. released() and close() wait for these.
   */
  release(bucket: string, blob: string): void {
    const p: Promise<void> = this.unlinkBlob(bucket, blob).finally(() => this.#releasing.delete(p));
    this.#releasing.add(p);
  }

  async unlinkBlob(bucket: string, blob: string): Promise<void> {
    await fsp.unlink(this.p('buckets', bucket, 'blobs', blob)).catch(() => {});
  }

  /** Resolves once the blob of every replaced or deleted version is gone. */
  async released(): Promise<void> {
    while (this.#releasing.size > 0) await Promise.all([...this.#releasing]);
  }
}
