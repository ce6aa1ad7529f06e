import { S3Error } from '@chute/errors';
import type { RequestContext } from '../context.ts';
import { taggingXml } from '../tagging.ts';

/** GET /bucket/key?tagging — the object's tag set (empty when it has none). */
export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  const key = ctx.key!;
  const meta = ctx.backend.headObject(bucket.name, key);
  if (!meta) throw new S3Error('NoSuchKey', undefined, { Key: key });
  ctx.sendXml(200, taggingXml(meta.tags ?? []));
}
