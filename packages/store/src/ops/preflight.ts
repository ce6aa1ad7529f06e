import { S3Error } from '@chute/errors';
import type { RequestContext } from '../context.ts';
import { bucketCorsRules } from '../cors/bucket.ts';
import {
  preflight as answerPreflight,
  checkPreflightRequest,
  type PreflightRequest,
} from '../cors/evaluate.ts';

/**
 * OPTIONS /bucket[/key] — the browser's CORS preflight. Unauthenticated by nature (browsers send
 * no credentials on it); "If cors is not enabled on the bucket, then Amazon S3 returns a 403
 * Forbidden response."
 */
export async function preflight(ctx: RequestContext): Promise<void> {
  const request: PreflightRequest = {
    origin: ctx.header('origin'),
    method: ctx.header('access-control-request-method'),
    headers: ctx.header('access-control-request-headers'),
  };
  const { method } = checkPreflightRequest(request);
  const resourceType = ctx.key === undefined ? 'BUCKET' : 'OBJECT';
  const bucket = ctx.bucket === undefined ? undefined : ctx.backend.getBucket(ctx.bucket);
  if (bucket === undefined) {
    throw new S3Error('AccessForbidden', 'CORSResponse: Bucket not found', {
      Method: method,
      ResourceType: resourceType,
    });
  }
  ctx.send(200, answerPreflight(bucketCorsRules(bucket), request, resourceType));
}
