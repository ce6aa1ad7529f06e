import { S3Error } from '@chute/errors';
import type { ListEntry, ObjectMeta } from '../backend/types.ts';
import type { RequestContext } from '../context.ts';
import { doc, el, isoDate } from '../xml.ts';
import { encodingType, ownerXml, parseMaxKeys, quoteEtag } from './common.ts';

function common(ctx: RequestContext) {
  ctx.requireBucket();
  return {
    prefix: ctx.query.get('prefix') ?? '',
    delimiter: ctx.query.get('delimiter') ?? '',
    maxKeys: parseMaxKeys(ctx.query.get('max-keys')),
    enc: encodingType(ctx),
  };
}

function contents(
  meta: ObjectMeta,
  enc: (s: string) => string,
  owner: boolean,
  extra: string[] = [],
): string[] {
  return [
    el('Key', enc(meta.key)),
    ...extra,
    el('LastModified', isoDate(meta.lastModified)),
    el('ETag', quoteEtag(meta.etag)),
    el('Size', meta.size),
    owner ? ownerXml() : '',
    el('StorageClass', 'STANDARD'),
  ];
}

function prefixes(entries: ListEntry[], enc: (s: string) => string): string[] {
  return entries.flatMap((e) =>
    e.kind === 'prefix' ? [el('CommonPrefixes', [el('Prefix', enc(e.prefix))])] : [],
  );
}

const lastOf = (entries: ListEntry[]): string | undefined => {
  const e = entries[entries.length - 1];
  return e === undefined ? undefined : e.kind === 'object' ? e.meta.key : e.prefix;
};

/** GET /bucket — ListObjects (v1): marker paging; NextMarker only when a delimiter is given. */
export async function listObjects(ctx: RequestContext): Promise<void> {
  const { prefix, delimiter, maxKeys, enc } = common(ctx);
  const marker = ctx.query.get('marker') ?? '';
  const r = ctx.backend.listObjects(ctx.bucket!, { prefix, delimiter, after: marker, maxKeys });
  ctx.sendXml(
    200,
    doc('ListBucketResult', [
      el('Name', ctx.bucket),
      el('Prefix', enc(prefix)),
      el('Marker', enc(marker)),
      el('MaxKeys', maxKeys),
      delimiter ? el('Delimiter', enc(delimiter)) : '',
      el('IsTruncated', r.isTruncated),
      r.isTruncated && delimiter ? el('NextMarker', enc(lastOf(r.entries) ?? '')) : '',
      enc.url ? el('EncodingType', 'url') : '',
      ...r.entries.flatMap((e) => (e.kind === 'object' ? [el('Contents', contents(e.meta, enc, true))] : [])),
      ...prefixes(r.entries, enc),
    ]),
  );
}

/** Continuation tokens are opaque to clients: the last key or prefix returned, base64url. */
const token = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
function untoken(t: string): string {
  const s = Buffer.from(t, 'base64url').toString('utf8');
  if (t === '' || token(s) !== t)
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  return s;
}

/** GET /bucket?list-type=2 — ListObjectsV2. */
export async function listObjectsV2(ctx: RequestContext): Promise<void> {
  const { prefix, delimiter, maxKeys, enc } = common(ctx);
  const ct = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? '';
  const after = ct !== null ? untoken(ct) : startAfter;
  const fetchOwner = ctx.query.get('fetch-owner') === 'true';
  const r = ctx.backend.listObjects(ctx.bucket!, { prefix, delimiter, after, maxKeys });
  ctx.sendXml(
    200,
    doc('ListBucketResult', [
      el('Name', ctx.bucket),
      el('Prefix', enc(prefix)),
      ct !== null ? el('ContinuationToken', ct) : '',
      startAfter ? el('StartAfter', enc(startAfter)) : '',
      el('MaxKeys', maxKeys),
      delimiter ? el('Delimiter', enc(delimiter)) : '',
      el('KeyCount', r.entries.length),
      el('IsTruncated', r.isTruncated),
      r.isTruncated ? el('NextContinuationToken', token(lastOf(r.entries) ?? '')) : '',
      enc.url ? el('EncodingType', 'url') : '',
      ...r.entries.flatMap((e) =>
        e.kind === 'object' ? [el('Contents', contents(e.meta, enc, fetchOwner))] : [],
      ),
      ...prefixes(r.entries, enc),
    ]),
  );
}

/** GET /bucket?versions — buckets here are never versioned: every object is version `null`. */
export async function listObjectVersions(ctx: RequestContext): Promise<void> {
  const { prefix, delimiter, maxKeys, enc } = common(ctx);
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const r = ctx.backend.listObjects(ctx.bucket!, { prefix, delimiter, after: keyMarker, maxKeys });
  const last = lastOf(r.entries);
  ctx.sendXml(
    200,
    doc('ListVersionsResult', [
      el('Name', ctx.bucket),
      el('Prefix', enc(prefix)),
      el('KeyMarker', enc(keyMarker)),
      el('VersionIdMarker', ctx.query.get('version-id-marker') ?? ''),
      el('MaxKeys', maxKeys),
      delimiter ? el('Delimiter', enc(delimiter)) : '',
      el('IsTruncated', r.isTruncated),
      r.isTruncated && last !== undefined ? el('NextKeyMarker', enc(last)) : '',
      r.isTruncated ? el('NextVersionIdMarker', 'null') : '',
      enc.url ? el('EncodingType', 'url') : '',
      ...r.entries.flatMap((e) =>
        e.kind === 'object'
          ? [el('Version', contents(e.meta, enc, true, [el('VersionId', 'null'), el('IsLatest', true)]))]
          : [],
      ),
      ...prefixes(r.entries, enc),
    ]),
  );
}
