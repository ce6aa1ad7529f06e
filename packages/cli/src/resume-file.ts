import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResumeStore } from '@chute/client';

/**
 * `chute upload --resume`: one small JSON file per upload in progress under DIR, named by the
 * SHA-256 of the client's resume key (the key holds a file name: never a path). Written to a temp
 * name and renamed, so a crash mid-write leaves the old record or the new one.
 */
export function fileResume(dir: string): ResumeStore {
  const file = (key: string) => path.join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  return {
    async get(key) {
      try {
        return await readFile(file(key), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async set(key, value) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file(key)}.${process.pid}.tmp`;
      await writeFile(tmp, value, { mode: 0o600 });
      await rename(tmp, file(key));
    },
    async delete(key) {
      await rm(file(key), { force: true });
    },
  };
}
