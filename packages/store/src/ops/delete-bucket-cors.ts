import type { RequestContext } from '../context.ts';
import { CORS_SETTING } from '../cors/bucket.ts';

/** DELETE /bucket?cors — removes the configuration; 204 whether or not there was one, as S3. */
export async function deleteBucketCors(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  await ctx.backend.updateBucket(bucket.name, { settings: { [CORS_SETTING]: undefined } });
  ctx.send(204);
}
