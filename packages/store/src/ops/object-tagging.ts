import { S3Error } from '@chute/errors';
import type { RequestContext } from '../context.ts';
import { parseTagging, taggingXml } from '../tagging.ts';
import { readSmallBody } from './common.ts';

/** GET /bucket/key?tagging — the object's tag set (empty when it has none). */
export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  const key = ctx.key!;
  const meta = ctx.backend.headObject(bucket.name, key);
  if (!meta) throw new S3Error('NoSuchKey', undefined, { Key: key });
  ctx.sendXml(200, taggingXml(meta.tags ?? []));
}

/** PUT /bucket/key?tagging — replaces the object's tag set with the Tagging document sent. */
export async function putObjectTagging(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  const key = ctx.key!;
  const tags = parseTagging(await readSmallBody(ctx, { max: 64 * 1024 }));
  await ctx.backend.retagObject(bucket.name, key, tags);
  ctx.send(200);
}

/** DELETE /bucket/key?tagging — removes the object's tag set. */
export async function deleteObjectTagging(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  await ctx.backend.retagObject(bucket.name, ctx.key!, []);
  ctx.send(204);
}
