import { compareUtf8, lowerBound } from '../../keys.ts';
import type { ListOptions, ListResult } from '../types.ts';
import type { FsState } from './state.ts';

// Listing walks the bucket's sorted in-memory key index from the marker or prefix on.

export function listObjects(s: FsState, bucket: string, opts: ListOptions): ListResult {
  const b = s.bucket(bucket);
  const { prefix, delimiter, after, maxKeys } = opts;
  const entries: ListResult['entries'] = [];
  let i = lowerBound(b.keys, compareUtf8(after, prefix) > 0 ? after : prefix);
  let lastPrefix: string | undefined;
  while (i < b.keys.length) {
    const key = b.keys[i++]!;
    if (!key.startsWith(prefix)) break;
    if (after && compareUtf8(key, after) <= 0) continue;
    if (delimiter) {
      const d = key.indexOf(delimiter, prefix.length);
      if (d >= 0) {
        const cp = key.slice(0, d + delimiter.length);
        // Keys rolled up into a prefix already returned (here or as the marker) are skipped.
        if (cp === lastPrefix || (after && compareUtf8(cp, after) <= 0)) continue;
        if (entries.length >= maxKeys) return { entries, isTruncated: true };
        lastPrefix = cp;
        entries.push({ kind: 'prefix', prefix: cp });
        continue;
      }
    }
    if (entries.length >= maxKeys) return { entries, isTruncated: true };
    entries.push({ kind: 'object', meta: b.objects.get(key)! });
  }
  return { entries, isTruncated: false };
}

export function countObjects(s: FsState, bucket: string): number {
  return s.bucket(bucket).objects.size;
}
