import type { RequestContext } from './context.ts';
import { bucketCorsRules } from './cors/bucket.ts';
import { actualRequestHeaders } from './cors/evaluate.ts';

/**
 * Called once before every response (successes and errors) is written: the bucket's CORS rules
 * add Access-Control-* headers to the answer of a cross-origin request, error answers included —
 * otherwise a browser hides the S3 error document from the page and shows a CORS failure.
 * The preflight (OPTIONS) answers with its own headers.
 */
export function applyCors(ctx: RequestContext): void {
  if (ctx.op === 'Preflight') return;
  const origin = ctx.header('origin');
  if (origin === undefined || ctx.bucket === undefined) return;
  const rules = bucketCorsRules(ctx.backend.getBucket(ctx.bucket));
  const headers = actualRequestHeaders(rules, origin, ctx.req.method ?? '');
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'vary') {
      const prior = ctx.res.getHeader('vary');
      ctx.res.setHeader('vary', prior === undefined ? value : `${String(prior)}, ${value}`);
    } else {
      ctx.res.setHeader(name, value);
    }
  }
}
