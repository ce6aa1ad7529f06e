import { createReadStream, close as fsClose, open as fsOpen } from 'node:fs';
import fsp from 'node:fs/promises';
import { S3Error } from '@chute/errors';
import { lowerBound } from '../../keys.ts';
import { BufferedBlobWriter } from '../blob-writer.ts';
import { fsyncDir } from '../durable.ts';
import type { FileBlob } from '../file-blob.ts';
import { safeJoin } from '../paths.ts';
import { STAGE_MIN_BYTES, StagedBlobWriter } from '../staged-writer.ts';
import type { BlobWriter, ObjectAttrs, ObjectMeta, ReadHandle } from '../types.ts';
import { sendRange } from './send-range.ts';
import { type FsState, keyHash, newId, READ_HWM } from './state.ts';

// Objects: read, written (a new blob, then the commit of its record), copied by hard link,
// deleted.

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(path, 'r', (e, fd) => (e ? reject(e) : resolve(fd))));
}

export function headObject(s: FsState, bucket: string, key: string): ObjectMeta | undefined {
  return s.bucket(bucket).objects.get(key);
}

export async function openObject(s: FsState, bucket: string, key: string): Promise<ReadHandle | undefined> {
  // The record may be replaced and its blob unlinked between lookup and open: retry then.
  for (let attempt = 0; attempt < 5; attempt++) {
    const meta = s.bucket(bucket).objects.get(key);
    if (!meta) return undefined;
    let fd: number;
    try {
      // A numeric fd: fs.ReadStream over a FileHandle reads through promises, noticeably slower.
      fd = await openFd(s.p('buckets', bucket, 'blobs', meta.blob));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    let used = false;
    return {
      meta,
      stream: (start: number, end: number) => {
        used = true;
        return createReadStream('', { fd, start, end, highWaterMark: READ_HWM, autoClose: true });
      },
      writeTo: async (dest, start, end) => {
        used = true;
        try {
          await sendRange(fd, dest, start, end);
        } finally {
          await new Promise<void>((r) => fsClose(fd, () => r()));
        }
      },
      close: async () => {
        if (!used) await new Promise<void>((r) => fsClose(fd, () => r()));
      },
    };
  }
  throw new Error('object kept changing while being opened');
}

export async function newBlob(s: FsState, bucket: string, sizeHint = 0): Promise<FileBlob> {
  s.bucket(bucket);
  const id = newId();
  const dir = s.p('buckets', bucket, 'blobs');
  const path = safeJoin(dir, id);
  if (sizeHint >= STAGE_MIN_BYTES) return StagedBlobWriter.create(id, dir, path, s.rings, s.directIo);
  return new BufferedBlobWriter(id, dir, path, await fsp.open(path, 'wx'));
}

export function commitObject(
  s: FsState,
  bucket: string,
  key: string,
  blob: BlobWriter,
  fields: ObjectAttrs & { size: number; etag: string; partsCount?: number },
  precondition?: (current: ObjectMeta | undefined) => void,
): Promise<ObjectMeta> {
  const w = blob as FileBlob;
  return s.lock.run(`key:${bucket}/${key}`, async () => {
    precondition?.(s.bucket(bucket).objects.get(key));
    const meta: ObjectMeta = { ...fields, key, lastModified: Date.now(), blob: w.id };
    await s.commit(bucket, meta);
    w.adopt();
    return meta;
  });
}

export async function copyObject(
  s: FsState,
  src: { bucket: string; key: string; ifEtag?: string },
  dst: { bucket: string; key: string },
  attrs?: ObjectAttrs,
): Promise<ObjectMeta> {
  s.bucket(dst.bucket);
  for (let attempt = 0; attempt < 5; attempt++) {
    const from = s.bucket(src.bucket).objects.get(src.key);
    if (!from) throw new S3Error('NoSuchKey', undefined, { Key: src.key });
    if (src.ifEtag !== undefined && from.etag !== src.ifEtag) throw new S3Error('PreconditionFailed');
    // A hard link: the same inode under a new immutable name. Costs the same for any size.
    const id = newId();
    const dir = s.p('buckets', dst.bucket, 'blobs');
    try {
      await fsp.link(s.p('buckets', src.bucket, 'blobs', from.blob), safeJoin(dir, id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // source replaced meanwhile
      throw e;
    }
    await fsyncDir(dir);
    // "When copying an object, … by default, the ACL is not preserved and is set to private";
    // the tag set is copied.
    const { key: _k, blob: _b, lastModified: _l, acl: _a, ...kept } = from;
    const meta: ObjectMeta = {
      ...kept,
      ...(attrs ?? {}),
      ...(attrs && !attrs.checksum && from.checksum ? { checksum: from.checksum } : {}),
      key: dst.key,
      blob: id,
      lastModified: Date.now(),
    };
    try {
      await s.lock.run(`key:${dst.bucket}/${dst.key}`, () => s.commit(dst.bucket, meta));
    } catch (e) {
      await s.unlinkBlob(dst.bucket, id);
      throw e;
    }
    return meta;
  }
  throw new Error('source kept changing while being copied');
}

export function deleteObject(s: FsState, bucket: string, key: string): Promise<boolean> {
  return s.lock.run(`key:${bucket}/${key}`, async () => {
    const b = s.bucket(bucket);
    const prev = b.objects.get(key);
    if (!prev) return false;
    const h = keyHash(key);
    const dir = s.p('buckets', bucket, 'meta', h.slice(0, 2));
    await fsp.unlink(safeJoin(dir, `${h}.json`));
    await fsyncDir(dir);
    b.objects.delete(key);
    const i = lowerBound(b.keys, key);
    if (b.keys[i] === key) b.keys.splice(i, 1);
    s.release(bucket, prev.blob);
    return true;
  });
}

/** A new record for the same blob, with another tag set; committed like any record. */
export function retagObject(
  s: FsState,
  bucket: string,
  key: string,
  tags: [string, string][],
): Promise<ObjectMeta> {
  return s.lock.run(`key:${bucket}/${key}`, async () => {
    const current = s.bucket(bucket).objects.get(key);
    if (!current) throw new S3Error('NoSuchKey', undefined, { Key: key });
    const { tags: _old, ...rest } = current;
    const meta: ObjectMeta = tags.length > 0 ? { ...rest, tags } : rest;
    await s.commit(bucket, meta);
    return meta;
  });
}
