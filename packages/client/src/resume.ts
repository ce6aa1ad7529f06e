import type { GrantRequest } from './types.ts';

/**
 * Where a multipart upload in progress is remembered, so that after a reload or a crash the same
 * file resumes from the parts storage already holds. Browsers: `localStorageResume()`; Node: any
 * key-value file (the CLI keeps one per file under its state directory).
 */
export interface ResumeStore {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  delete(key: string): void | Promise<void>;
}

/** What is remembered: enough to ask the gateway what storage holds and to cut the same parts. */
export interface ResumeRecord {
  v: 1;
  /** The gateway's upload id. */
  id: string;
  /** Storage's UploadId. */
  uploadId: string;
  partSize: number;
  partCount: number;
  size: number;
}

/**
 * The same file for the same route: name, size, type and (for Files) last-modified time. A file
 * edited in place gets a new lastModified, so its old parts are never stitched into the new one.
 */
export function resumeKey(request: GrantRequest, file: Blob): string {
  const modified = (file as { lastModified?: number }).lastModified ?? '';
  return `chute-upload:${request.route}:${request.size}:${request.contentType}:${modified}:${request.filename}`;
}

export function parseResumeRecord(raw: string | null | undefined, size: number): ResumeRecord | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const r = JSON.parse(raw) as Partial<ResumeRecord>;
    const ok =
      r.v === 1 &&
      typeof r.id === 'string' &&
      typeof r.uploadId === 'string' &&
      Number.isSafeInteger(r.partSize) &&
      Number.isSafeInteger(r.partCount) &&
      r.size === size;
    return ok ? (r as ResumeRecord) : undefined;
  } catch {
    return undefined;
  }
}

export function memoryResume(): ResumeStore {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v), delete: (k) => void m.delete(k) };
}

/** Browsers: window.localStorage (or sessionStorage) as a ResumeStore. */
export function localStorageResume(
  storage: {
    getItem(k: string): string | null;
    setItem(k: string, v: string): void;
    removeItem(k: string): void;
  } = (globalThis as unknown as { localStorage: never }).localStorage,
): ResumeStore {
  return {
    get: (k) => storage.getItem(k),
    set: (k, v) => storage.setItem(k, v),
    delete: (k) => storage.removeItem(k),
  };
}
