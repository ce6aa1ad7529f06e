import { S3Error } from '@chute/errors';
import { parseObjectAcl } from '../acl.ts';
import { enforceAccess } from '../auth.ts';
import type { ObjectMeta } from '../backend/types.ts';
import type { RequestContext } from '../context.ts';
import { checkKey } from '../keys.ts';
import { doc, el, isoDate } from '../xml.ts';
import { attrsFromHeaders, checkConditions, quoteEtag } from './common.ts';

/** `x-amz-copy-source: /bucket/key?versionId=…`, URL-encoded; the leading slash is optional. */
export function parseCopySource(v: string): { bucket: string; key: string } {
  let s = v.trim();
  const q = s.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(s.slice(q + 1));
    const version = params.get('versionId');
    if (version !== null && version !== 'null')
      throw new S3Error('InvalidArgument', 'Invalid version id specified');
    s = s.slice(0, q);
  }
  if (s.startsWith('/')) s = s.slice(1);
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1)
    throw new S3Error('InvalidArgument', 'Invalid copy source object key');
  try {
    return { bucket: decodeURIComponent(s.slice(0, slash)), key: decodeURIComponent(s.slice(slash + 1)) };
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding');
  }
}

/** Source lookup + x-amz-copy-source-if-* (all failures are 412 for a copy, never 304). */
export function copySource(ctx: RequestContext): ObjectMeta {
  const src = parseCopySource(ctx.header('x-amz-copy-source')!);
  const srcBucket = ctx.backend.getBucket(src.bucket);
  if (!srcBucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: src.bucket });
  // Reading the source needs read access to it (anonymous callers on public buckets).
  enforceAccess(ctx.auth, 'read', srcBucket);
  const meta = ctx.backend.headObject(src.bucket, src.key);
  if (!meta) throw new S3Error('NoSuchKey', undefined, { Key: src.key });
  const c = checkConditions((n) => ctx.header(n), meta, {
    match: 'x-amz-copy-source-if-match',
    noneMatch: 'x-amz-copy-source-if-none-match',
    modSince: 'x-amz-copy-source-if-modified-since',
    unmodSince: 'x-amz-copy-source-if-unmodified-since',
  });
  if (c !== 'ok') throw new S3Error('PreconditionFailed');
  return meta;
}

/** PUT /bucket/key with x-amz-copy-source — a hard link plus a new record; never copies bytes. */
export async function copyObject(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const key = ctx.requireKey();
  checkKey(key);
  const src = parseCopySource(ctx.header('x-amz-copy-source')!);
  const directive = (ctx.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', {
      ArgumentName: 'x-amz-metadata-directive',
      ArgumentValue: directive,
    });
  }
  const meta = copySource(ctx);
  if (src.bucket === ctx.bucket && src.key === key && directive !== 'REPLACE') {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const acl = parseObjectAcl(ctx.header('x-amz-acl'));
  const attrs =
    directive === 'REPLACE'
      ? attrsFromHeaders(ctx)
      : acl === undefined
        ? undefined
        : { contentType: meta.contentType, headers: meta.headers, userMeta: meta.userMeta, acl };
  const copied = await ctx.backend.copyObject(
    { bucket: src.bucket, key: src.key, ifEtag: meta.etag },
    { bucket: ctx.bucket!, key },
    attrs,
  );
  ctx.sendXml(
    200,
    doc('CopyObjectResult', [
      el('LastModified', isoDate(copied.lastModified)),
      el('ETag', quoteEtag(copied.etag)),
    ]),
  );
}
