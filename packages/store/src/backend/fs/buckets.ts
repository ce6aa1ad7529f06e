import fsp from 'node:fs/promises';
import { S3Error } from '@chute/errors';
import { compareUtf8 } from '../../keys.ts';
import { fsyncDir, writeDurable } from '../durable.ts';
import { safeJoin } from '../paths.ts';
import type { BucketInfo, CannedAcl } from '../types.ts';
import { type FsState, newId } from './state.ts';

// Buckets: created whole in tmp/ and renamed into place, settings rewritten atomically, deleted
// by a rename out of buckets/.

export function listBuckets(s: FsState): BucketInfo[] {
  return [...s.buckets.values()].map((b) => b.info).sort((a, b) => compareUtf8(a.name, b.name));
}

export function getBucket(s: FsState, name: string): BucketInfo | undefined {
  return s.buckets.get(name)?.info;
}

export function createBucket(
  s: FsState,
  name: string,
  init: { acl: CannedAcl; location: string },
): Promise<BucketInfo> {
  return s.lock.run(`bucket:${name}`, async () => {
    if (s.buckets.has(name)) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
    const info: BucketInfo = {
      name,
      created: Date.now(),
      acl: init.acl,
      location: init.location,
      settings: {},
    };
    // Built complete in tmp/, then renamed into place: a bucket exists whole or not at all.
    const stage = safeJoin(s.tmp, `bucket-${newId()}`);
    await fsp.mkdir(safeJoin(stage, 'blobs'), { recursive: true });
    await fsp.mkdir(safeJoin(stage, 'uploads'));
    await fsp.mkdir(safeJoin(stage, 'meta'));
    for (let i = 0; i < 256; i++) await fsp.mkdir(safeJoin(stage, 'meta', i.toString(16).padStart(2, '0')));
    await writeDurable(safeJoin(stage, 'bucket.json'), JSON.stringify(info));
    await fsyncDir(stage);
    await fsp.rename(stage, s.p('buckets', name));
    await fsyncDir(s.p('buckets'));
    s.buckets.set(name, { info, keys: [], objects: new Map(), uploads: new Map() });
    return info;
  });
}

export function updateBucket(
  s: FsState,
  name: string,
  patch: { acl?: CannedAcl; settings?: Record<string, unknown> },
): Promise<BucketInfo> {
  return s.lock.run(`bucket:${name}`, async () => {
    const b = s.bucket(name);
    const info: BucketInfo = {
      ...b.info,
      acl: patch.acl ?? b.info.acl,
      settings: patch.settings ? { ...b.info.settings, ...patch.settings } : b.info.settings,
    };
    for (const [k, v] of Object.entries(info.settings)) if (v === undefined) delete info.settings[k];
    const tmp = safeJoin(s.tmp, `${newId()}.json`);
    await writeDurable(tmp, JSON.stringify(info));
    await fsp.rename(tmp, s.p('buckets', name, 'bucket.json'));
    await fsyncDir(s.p('buckets', name));
    b.info = info;
    return info;
  });
}

export function deleteBucket(s: FsState, name: string): Promise<void> {
  return s.lock.run(`bucket:${name}`, async () => {
    const b = s.bucket(name);
    if (b.objects.size > 0) throw new S3Error('BucketNotEmpty', undefined, { BucketName: name });
    // Renamed out of the namespace first (atomic), removed after; start-up finishes a removal
    // a crash interrupted because it empties tmp/.
    const grave = safeJoin(s.tmp, `deleted-${newId()}`);
    await fsp.rename(s.p('buckets', name), grave);
    await fsyncDir(s.p('buckets'));
    s.buckets.delete(name);
    await fsp.rm(grave, { recursive: true, force: true });
  });
}
