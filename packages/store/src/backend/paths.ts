import path from 'node:path';

/**
 * The one way a path on disk is made. Every segment is produced by the backend itself (hashes,
 * random ids, validated bucket names); this helper still refuses anything that is not a plain
 * name — NUL, separators, `.`/`..`, absolute — and checks the result stays under the root, so a
 * bug elsewhere cannot turn into a path traversal.
 */
export function safeJoin(root: string, ...segments: string[]): string {
  for (const s of segments) {
    if (
      s.length === 0 ||
      s === '.' ||
      s === '..' ||
      s.includes('\0') ||
      s.includes('/') ||
      s.includes('\\')
    ) {
      throw new Error(`unsafe path segment ${JSON.stringify(s)}`);
    }
  }
  const out = path.resolve(root, ...segments);
  const base = path.resolve(root);
  if (out !== base && !out.startsWith(base + path.sep)) throw new Error('path escapes the data dir');
  return out;
}
