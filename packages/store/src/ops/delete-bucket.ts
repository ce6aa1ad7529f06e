import type { RequestContext } from '../context.ts';

/** DELETE /bucket — refused with BucketNotEmpty while any object exists. */
export async function deleteBucket(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  await ctx.backend.deleteBucket(ctx.bucket!);
  ctx.send(204);
}
