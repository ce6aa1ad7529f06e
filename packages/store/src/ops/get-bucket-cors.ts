import { S3Error } from '@chute/errors';
import type { RequestContext } from '../context.ts';
import { bucketCorsRules } from '../cors/bucket.ts';
import { serializeCorsConfiguration } from '../cors/config.ts';

/** GET /bucket?cors — the rules as stored, or 404 NoSuchCORSConfiguration. */
export async function getBucketCors(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  const rules = bucketCorsRules(bucket);
  if (rules === undefined)
    throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: bucket.name });
  ctx.sendXml(200, serializeCorsConfiguration(rules));
}
