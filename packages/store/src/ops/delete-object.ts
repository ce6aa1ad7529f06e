import type { RequestContext } from '../context.ts';

/** DELETE /bucket/key — 204 whether or not the key existed, as S3. */
export async function deleteObject(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  await ctx.backend.deleteObject(ctx.bucket!, ctx.key!);
  ctx.send(204);
}
