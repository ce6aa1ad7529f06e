import { createHash } from 'node:crypto';
import type { Storage } from '../storage/types.ts';

/**
 * The object's SHA-256 (base64), streamed through the hash: memory stays flat whatever the size.
 * Used when storage kept no checksum of its own (a POST upload, or an engine without flexible
 * checksums); a PUT grant with a declared checksum signs x-amz-checksum-sha256, storage verifies
 * the bytes against it on upload and reports it on HEAD, and no download is needed.
 */
export async function streamSha256(storage: Storage, key: string): Promise<string> {
  const hash = createHash('sha256');
  const stream = await storage.getStream(key);
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('base64');
}
