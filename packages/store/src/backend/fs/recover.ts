import fsp from 'node:fs/promises';
import { compareUtf8 } from '../../keys.ts';
import { safeJoin } from '../paths.ts';
import type { BucketInfo, ObjectMeta, PartInfo, UploadInfo } from '../types.ts';
import { type BucketState, type FsState, isId, keyHash, listDir, readJson } from './state.ts';

/**
 * Start-up after any crash: tmp/ emptied, every bucket's records loaded into the index, records
 * that do not belong where they lie and uploads without their upload.json removed, and every
 * blob no record or part points to unlinked (see the layout note in state.ts).
 */
export async function recover(s: FsState): Promise<void> {
  await fsp.mkdir(s.root, { recursive: true });
  await fsp.rm(s.tmp, { recursive: true, force: true });
  await fsp.mkdir(s.tmp, { recursive: true });
  await fsp.mkdir(s.p('buckets'), { recursive: true });
  for (const name of await listDir(s.p('buckets'))) {
    const info = await readJson<BucketInfo>(s.p('buckets', name, 'bucket.json'));
    if (!info || info.name !== name) continue;
    const state: BucketState = { info, keys: [], objects: new Map(), uploads: new Map() };
    const referenced = new Set<string>();
    for (const hh of await listDir(s.p('buckets', name, 'meta'))) {
      for (const f of await listDir(s.p('buckets', name, 'meta', hh))) {
        const file = s.p('buckets', name, 'meta', hh, f);
        const meta = await readJson<ObjectMeta>(file);
        if (!meta || `${keyHash(meta.key)}.json` !== f) {
          await fsp.unlink(file).catch(() => {});
          continue;
        }
        state.objects.set(meta.key, meta);
        referenced.add(meta.blob);
      }
    }
    state.keys = [...state.objects.keys()].sort(compareUtf8);
    for (const id of await listDir(s.p('buckets', name, 'uploads'))) {
      const dir = s.p('buckets', name, 'uploads', id);
      const info = isId(id) ? await readJson<UploadInfo>(safeJoin(dir, 'upload.json')) : undefined;
      if (!info) {
        await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      const parts = new Map<number, PartInfo>();
      for (const f of await listDir(dir)) {
        if (!f.startsWith('part-')) continue;
        const part = await readJson<PartInfo>(safeJoin(dir, f));
        if (part) {
          parts.set(part.partNumber, part);
          referenced.add(part.blob);
        }
      }
      state.uploads.set(id, { info, parts });
    }
    // Blobs no record points to: a PUT that died before its commit, or an overwritten
    // version whose unlink did not happen before a crash.
    for (const blob of await listDir(s.p('buckets', name, 'blobs'))) {
      if (!referenced.has(blob)) await fsp.unlink(s.p('buckets', name, 'blobs', blob)).catch(() => {});
    }
    s.buckets.set(name, state);
  }
}
