import { storageError } from './errors.ts';
import type { Transport } from './transport/types.ts';
import type { PostGrant, PutGrant } from './types.ts';

/**
 * One POST Object form or one PUT, as the grant says. Storage enforces what was signed (size,
 * type, metadata, key); any status but 2xx becomes a ChuteClientError with storage's S3 code.
 */
export async function sendSingle(
  grant: PostGrant | PutGrant,
  file: Blob,
  filename: string,
  ctx: { transport: Transport; signal: AbortSignal; onProgress?: ((loaded: number) => void) | undefined },
): Promise<void> {
  const res = await ctx.transport.send(
    grant.method === 'post'
      ? {
          method: 'POST',
          url: grant.url,
          headers: {},
          // "The file or text content … must be the last field in the form" (S3 POST Object).
          body: { kind: 'form', fields: Object.entries(grant.fields), file, filename },
          signal: ctx.signal,
          onProgress: ctx.onProgress,
        }
      : {
          method: 'PUT',
          url: grant.url,
          headers: grant.headers,
          body: { kind: 'bytes', blob: file },
          signal: ctx.signal,
          onProgress: ctx.onProgress,
        },
  );
  if (res.status < 200 || res.status > 299)
    throw storageError(res.status, res.text, res.header('retry-after'));
}
