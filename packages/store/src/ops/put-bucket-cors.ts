import type { RequestContext } from '../context.ts';
import { CORS_SETTING } from '../cors/bucket.ts';
import { MAX_CORS_DOCUMENT_BYTES, parseCorsConfiguration } from '../cors/config.ts';
import { readSmallBody } from './common.ts';

/**
 * PUT /bucket?cors — "Sets the cors configuration for your bucket. If the configuration exists,
 * Amazon S3 replaces it." The body must carry Content-MD5 or a flexible checksum, as S3 requires
 * (the SDKs send one); at most 64 KB.
 */
export async function putBucketCors(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  const body = await readSmallBody(ctx, { max: MAX_CORS_DOCUMENT_BYTES, requireIntegrity: true });
  const rules = parseCorsConfiguration(body);
  await ctx.backend.updateBucket(bucket.name, { settings: { [CORS_SETTING]: rules } });
  ctx.send(200);
}
