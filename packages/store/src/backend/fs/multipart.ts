import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import { S3Error } from '@chute/errors';
import { compareUtf8 } from '../../keys.ts';
import { fsyncDir, writeDurable } from '../durable.ts';
import type { FileBlob } from '../file-blob.ts';
import { safeJoin } from '../paths.ts';
import type { BlobWriter, ObjectMeta, PartInfo, StoredChecksum, UploadInfo } from '../types.ts';
import { commitObject, newBlob } from './objects.ts';
import { type FsState, newId, READ_HWM } from './state.ts';

// Multipart uploads: an upload is a directory of part records pointing at blobs; completing one
// concatenates the parts into a new blob and commits it like any object, then drops the upload.

export async function createUpload(
  s: FsState,
  init: Omit<UploadInfo, 'uploadId' | 'initiated'>,
): Promise<UploadInfo> {
  const b = s.bucket(init.bucket);
  const info: UploadInfo = { ...init, uploadId: newId(), initiated: Date.now() };
  const stage = safeJoin(s.tmp, `upload-${info.uploadId}`);
  await fsp.mkdir(stage);
  await writeDurable(safeJoin(stage, 'upload.json'), JSON.stringify(info));
  await fsyncDir(stage);
  await fsp.rename(stage, s.p('buckets', init.bucket, 'uploads', info.uploadId));
  await fsyncDir(s.p('buckets', init.bucket, 'uploads'));
  b.uploads.set(info.uploadId, { info, parts: new Map() });
  return info;
}

function upload(s: FsState, bucket: string, uploadId: string) {
  const u = s.bucket(bucket).uploads.get(uploadId);
  if (!u) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  return u;
}

export function getUpload(s: FsState, bucket: string, uploadId: string): UploadInfo | undefined {
  return s.bucket(bucket).uploads.get(uploadId)?.info;
}

export function listUploads(s: FsState, bucket: string): UploadInfo[] {
  return [...s.bucket(bucket).uploads.values()]
    .map((u) => u.info)
    .sort((a, b) => compareUtf8(a.key, b.key) || a.initiated - b.initiated);
}

export function putPart(
  s: FsState,
  bucket: string,
  uploadId: string,
  partNumber: number,
  blob: BlobWriter,
  fields: Omit<PartInfo, 'blob' | 'lastModified' | 'partNumber'>,
): Promise<PartInfo> {
  const w = blob as FileBlob;
  return s.lock.run(`upload:${bucket}/${uploadId}`, async () => {
    const u = upload(s, bucket, uploadId);
    const part: PartInfo = { ...fields, partNumber, lastModified: Date.now(), blob: w.id };
    const dir = s.p('buckets', bucket, 'uploads', uploadId);
    const tmp = safeJoin(s.tmp, `${newId()}.json`);
    await writeDurable(tmp, JSON.stringify(part));
    await fsp.rename(tmp, safeJoin(dir, `part-${partNumber}.json`));
    await fsyncDir(dir);
    w.adopt();
    const prev = u.parts.get(partNumber);
    u.parts.set(partNumber, part);
    if (prev) s.release(bucket, prev.blob);
    return part;
  });
}

export function listParts(s: FsState, bucket: string, uploadId: string): PartInfo[] {
  return [...upload(s, bucket, uploadId).parts.values()].sort((a, b) => a.partNumber - b.partNumber);
}

export function completeUpload(
  s: FsState,
  bucket: string,
  uploadId: string,
  parts: PartInfo[],
  fields: { etag: string; checksum?: StoredChecksum },
): Promise<ObjectMeta> {
  return s.lock.run(`upload:${bucket}/${uploadId}`, async () => {
    const u = upload(s, bucket, uploadId);
    const w = await newBlob(s, bucket);
    try {
      for (const part of parts) {
        const fh = await fsp.open(s.p('buckets', bucket, 'blobs', part.blob), 'r');
        for await (const chunk of createReadStream('', { fd: fh, highWaterMark: READ_HWM })) {
          const p = w.write(chunk as Buffer);
          if (p) await p;
        }
      }
      const { size } = await w.finish();
      const meta = await commitObject(s, bucket, u.info.key, w, {
        ...u.info.attrs,
        checksum: fields.checksum,
        size,
        etag: fields.etag,
        partsCount: parts.length,
      });
      await dropUpload(s, bucket, uploadId);
      return meta;
    } catch (e) {
      await w.abort();
      throw e;
    }
  });
}

async function dropUpload(s: FsState, bucket: string, uploadId: string): Promise<void> {
  const b = s.bucket(bucket);
  const u = upload(s, bucket, uploadId);
  const grave = safeJoin(s.tmp, `upload-gone-${newId()}`);
  await fsp.rename(s.p('buckets', bucket, 'uploads', uploadId), grave);
  await fsyncDir(s.p('buckets', bucket, 'uploads'));
  b.uploads.delete(uploadId);
  for (const part of u.parts.values()) await s.unlinkBlob(bucket, part.blob);
  await fsp.rm(grave, { recursive: true, force: true });
}

export function abortUpload(s: FsState, bucket: string, uploadId: string): Promise<void> {
  return s.lock.run(`upload:${bucket}/${uploadId}`, () => dropUpload(s, bucket, uploadId));
}
