import { createHash } from 'node:crypto';
import { signHeaders, uriEncode } from '@chute/sigv4';
import { codeForStatus } from '../storage/errors.ts';
import { parseError } from '../storage/xml.ts';
import type { DoctorContext } from './types.ts';

/**
 * Bucket-level requests the storage interface has no method for (HEAD bucket, GET ?cors), signed
 * with @chute/sigv4 at the doctor's clock, so an injected clock shows what storage makes of a
 * skewed one. Path-style or virtual-host as the config says, like S3Storage.
 */
export interface BucketRequest {
  method: 'GET' | 'HEAD';
  query?: Record<string, string>;
  /** Unsigned: no Authorization header (the clock check needs only the Date of any answer). */
  anonymous?: boolean;
}

export interface BucketAnswer {
  status: number;
  /** S3's error code from the body, or the one a bare status implies (HEAD has no body). */
  code: string | undefined;
  message: string;
  body: string;
  headers: Headers;
}

export function bucketUrl(ctx: DoctorContext): { origin: string; path: string } {
  const u = new URL(ctx.storage.endpoint);
  return ctx.storage.forcePathStyle
    ? { origin: u.origin, path: `/${ctx.storage.bucket}` }
    : { origin: `${u.protocol}//${ctx.storage.bucket}.${u.host}`, path: '/' };
}

/** Throws only on network failure (no answer): the caller turns that into its finding. */
export async function bucketRequest(ctx: DoctorContext, req: BucketRequest): Promise<BucketAnswer> {
  const { origin, path } = bucketUrl(ctx);
  const query = req.query ?? {};
  let headers: Record<string, string> = {};
  if (!req.anonymous) {
    headers = signHeaders({
      method: req.method,
      endpoint: origin,
      path,
      query,
      credentials: { accessKeyId: ctx.storage.accessKeyId, secretAccessKey: ctx.storage.secretAccessKey },
      region: ctx.storage.region,
      payloadHash: createHash('sha256').update('').digest('hex'),
      now: ctx.now(),
    });
    delete headers['host']; // fetch sends the same Host itself
  }
  const qs = Object.entries(query)
    .map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`))
    .join('&');
  const res = await ctx.fetch(`${origin}${path}${qs ? `?${qs}` : ''}`, {
    method: req.method,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(ctx.timeoutMs),
  });
  const body = req.method === 'HEAD' ? '' : await res.text();
  const parsed = parseError(body);
  return {
    status: res.status,
    code: parsed?.code ?? (res.ok ? undefined : codeForStatus(res.status)),
    message: parsed?.message ?? '',
    body,
    headers: res.headers,
  };
}

/** "ECONNREFUSED 127.0.0.1:9000" rather than fetch's bare "fetch failed". */
export function networkReason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'no answer (timed out)';
  return err.cause?.message ?? err.cause?.code ?? err.message;
}
