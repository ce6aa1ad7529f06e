import { S3Error } from '@chute/errors';
import { parseCannedAcl } from '../acl.ts';
import type { RequestContext } from '../context.ts';
import { isValidBucketName } from '../keys.ts';
import { parseXml, text } from '../xml.ts';
import { readSmallBody } from './common.ts';

/** PUT /bucket — with an optional CreateBucketConfiguration (LocationConstraint) body. */
export async function createBucket(ctx: RequestContext): Promise<void> {
  const name = ctx.bucket!;
  if (!isValidBucketName(name)) throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
  const acl = parseCannedAcl(ctx.header('x-amz-acl')) ?? 'private';
  const body = await readSmallBody(ctx, { max: 64 * 1024 });
  let location = '';
  if (body.trim() !== '') {
    const cfg = parseXml(body, 'CreateBucketConfiguration');
    location = text(cfg, 'LocationConstraint') ?? '';
  }
  // A bucket lives in the store's region; us-east-1 is spelled as no constraint, as in S3.
  const region = ctx.config.region;
  if (location !== '' && (location !== region || region === 'us-east-1')) {
    throw new S3Error('InvalidLocationConstraint', undefined, { LocationConstraint: location });
  }
  if (ctx.backend.getBucket(name)) {
    // "Amazon S3 returns this error in all AWS Regions except in the North Virginia Region. For
    // legacy compatibility, if you re-create an existing bucket that you already own in the
    // North Virginia Region, Amazon S3 returns 200 OK and resets the bucket access control
    // lists (ACLs)." Its objects and settings stay.
    if (region !== 'us-east-1') throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
    await ctx.backend.updateBucket(name, { acl });
    ctx.send(200, { location: `/${name}` });
    return;
  }
  await ctx.backend.createBucket(name, { acl, location });
  ctx.send(200, { location: `/${name}` });
}
