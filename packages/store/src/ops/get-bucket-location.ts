import type { RequestContext } from '../context.ts';
import { doc, esc, S3_NS } from '../xml.ts';

/** GET /bucket?location — us-east-1 is reported as an empty LocationConstraint, as S3 does. */
export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const region = ctx.config.region === 'us-east-1' ? '' : ctx.config.region;
  ctx.sendXml(
    200,
    region === ''
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}"/>`
      : doc('LocationConstraint', [esc(region)]),
  );
}
