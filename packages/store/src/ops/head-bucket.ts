import type { RequestContext } from '../context.ts';

/** HEAD /bucket */
export async function headBucket(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  ctx.send(200, { 'x-amz-bucket-region': ctx.config.region });
}
