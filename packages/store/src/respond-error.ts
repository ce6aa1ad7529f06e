import { isS3Error, S3Error } from '@chute/errors';
import type { RequestContext } from './context.ts';
import { el, errorDoc } from './xml.ts';

/**
 * Answers a failed request: an S3Error becomes S3's XML error document (Code, Message, details,
 * Resource, RequestId); anything else is logged and answered InternalError without its message
 * (never echo internals). HEAD gets status and headers only.
 */
export function respondError(ctx: RequestContext, err: unknown): void {
  const s3 = isS3Error(err) ? err : new S3Error('InternalError');
  if (!isS3Error(err)) {
    ctx.log({
      level: 'error',
      requestId: ctx.requestId,
      op: ctx.op,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  }
  ctx.logFields.error = s3.code;
  const res = ctx.res;
  if (res.headersSent) {
    // Mid-stream failure: the status is gone; cut the connection so the client sees a short body.
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) {
    if (name !== 'x-amz-request-id' && name !== 'x-amz-id-2' && name !== 'server') res.removeHeader(name);
  }
  const resource = ctx.rawPath;
  const body = errorDoc([
    el('Code', s3.code),
    el('Message', s3.message),
    ...Object.entries(s3.details).map(([k, v]) => el(k, v)),
    el('Resource', resource),
    el('RequestId', ctx.requestId),
  ]);
  const extra: Record<string, string> = {};
  if (s3.code === 'InvalidRange' && s3.details.ActualObjectSize !== undefined) {
    extra['content-range'] = `bytes */${s3.details.ActualObjectSize}`;
  }
  if (!ctx.body.complete) {
    // The body was not read (refused before or during upload): don't reuse the connection.
    extra.connection = 'close';
  }
  ctx.sendXml(s3.status, body, extra);
}
