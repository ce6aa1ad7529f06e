import { MAX_PARTS, MIN_PART_BYTES } from '../../rules/parts.ts';

/**
 * The part size @uppy/aws-s3 cuts a file into (6.x, `src/S3Uploader.ts`, without `getChunkSize`):
 *
 *     let chunkSize = Math.ceil(fileSize / MAX_PARTS)         // #getChunkSize's default
 *     chunkSize = Math.max(chunkSize, MIN_CHUNK_SIZE)          // 5 MiB
 *     if (Math.ceil(fileSize / chunkSize) > MAX_PARTS) chunkSize = Math.ceil(fileSize / MAX_PARTS)
 *
 * Uppy tells Companion neither the part size nor the part count, and every part URL the gateway
 * signs carries that part's exact Content-Length: so the plan must be Uppy's, byte for byte.
 */
export function uppyPartSize(size: number): number {
  const chunk = Math.max(Math.ceil(size / MAX_PARTS), MIN_PART_BYTES);
  return Math.ceil(size / chunk) > MAX_PARTS ? Math.ceil(size / MAX_PARTS) : chunk;
}
