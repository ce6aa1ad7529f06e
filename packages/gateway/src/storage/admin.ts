import { createHash } from 'node:crypto';
import { signHeaders } from '@chute/sigv4';
import { codeForStatus, StorageError } from './errors.ts';
import type { StorageConfig } from './s3.ts';
import { parseError } from './xml.ts';

/**
 * Bucket set-up for `chute dev` and `chute doctor`: not part of the storage interface the gateway
 * runs on (it never creates buckets or changes their CORS while serving). Path-style.
 */
export interface PrepareBucketOptions {
  /** Origins whose pages upload straight to the bucket (the console, the app). Empty: CORS untouched. */
  corsOrigins?: readonly string[];
  fetch?: typeof fetch;
}

/**
 * The CORS rule browsers need for grants: POST (forms) and PUT (presigned URLs) from the given
 * origins, GET/HEAD for downloads and previews, any request header (the signed x-amz-meta-* and
 * content-type), and ETag exposed (multipart clients read it).
 */
export function corsXml(origins: readonly string[]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return (
    '<CORSConfiguration><CORSRule>' +
    origins.map((o) => `<AllowedOrigin>${esc(o)}</AllowedOrigin>`).join('') +
    ['GET', 'HEAD', 'PUT', 'POST'].map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('') +
    '<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds>' +
    '</CORSRule></CORSConfiguration>'
  );
}

/** Creates the bucket if it does not exist (private), then sets its CORS rule when origins are given. */
export async function prepareBucket(
  config: StorageConfig,
  options: PrepareBucketOptions = {},
): Promise<{ created: boolean }> {
  const send = (
    method: string,
    query: Record<string, string>,
    body: string,
    headers: Record<string, string> = {},
  ) => signedRequest(config, method, query, body, headers, options.fetch ?? fetch);
  const head = await send('HEAD', {}, '');
  let created = false;
  if (head.status === 404) {
    // us-east-1 takes no body; any other region must be named (CreateBucketConfiguration).
    const body =
      config.region === 'us-east-1'
        ? ''
        : `<CreateBucketConfiguration><LocationConstraint>${config.region}</LocationConstraint></CreateBucketConfiguration>`;
    await check('CreateBucket', await send('PUT', {}, body));
    created = true;
  } else {
    await check('HeadBucket', head);
  }
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    const xml = corsXml(options.corsOrigins);
    // S3 requires an integrity header on PutBucketCors.
    const md5 = createHash('md5').update(xml).digest('base64');
    await check(
      'PutBucketCors',
      await send('PUT', { cors: '' }, xml, { 'content-md5': md5, 'content-type': 'application/xml' }),
    );
  }
  return { created };
}

async function signedRequest(
  config: StorageConfig,
  method: string,
  query: Record<string, string>,
  body: string,
  headers: Record<string, string>,
  fetchImpl: typeof fetch,
): Promise<Response> {
  const origin = new URL(config.endpoint).origin;
  const path = `/${config.bucket}`;
  const signed = signHeaders({
    method,
    endpoint: origin,
    path,
    query,
    headers,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    region: config.region,
    payloadHash: createHash('sha256').update(body).digest('hex'),
  });
  delete signed['host'];
  const qs = Object.keys(query).length === 0 ? '' : `?${Object.keys(query).join('&')}`;
  return fetchImpl(`${origin}${path}${qs}`, {
    method,
    headers: signed,
    ...(body !== '' && { body }),
    signal: AbortSignal.timeout(30_000),
  });
}

async function check(operation: string, res: Response): Promise<void> {
  const text = await res.text();
  if (res.ok) return;
  const e = parseError(text);
  throw new StorageError(
    operation,
    e?.code ?? codeForStatus(res.status),
    res.status,
    e?.message ?? res.statusText,
  );
}
