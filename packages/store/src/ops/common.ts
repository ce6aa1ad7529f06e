import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { S3Error } from '@chute/errors';
import { parseObjectAcl } from '../acl.ts';
import type { BlobWriter, ObjectAttrs, ObjectMeta } from '../backend/types.ts';
import { checksumHeader } from '../body/checksums.ts';
import { ingest, planBody } from '../body/ingest.ts';
import type { RequestContext } from '../context.ts';
import { parseTaggingHeader } from '../tagging.ts';
import { el } from '../xml.ts';

/** The one owner this store reports (S3 clients expect an Owner element in listings). */
export const OWNER_ID = createHash('sha256').update('chute-store-owner').digest('hex');
export const OWNER_NAME = 'chute';
export const ownerXml = (): string => el('Owner', [el('ID', OWNER_ID), el('DisplayName', OWNER_NAME)]);

/** Headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
];

/** "the user-defined metadata is limited to 2 KB in size" (sum of key and value bytes). */
const MAX_USER_METADATA = 2048;

export const quoteEtag = (etag: string): string => `"${etag}"`;
export const unquoteEtag = (s: string): string =>
  s
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
export const httpDate = (ms: number): string => new Date(ms).toUTCString();

/** Object attributes from a PUT / CreateMultipartUpload / CopyObject(REPLACE) request. */
export function attrsFromHeaders(ctx: RequestContext): ObjectAttrs {
  const headers: Record<string, string> = {};
  for (const h of STORED_HEADERS) {
    const v = ctx.header(h);
    if (v === undefined) continue;
    // aws-chunked is transfer framing, not a property of the object: S3 drops it.
    if (h === 'content-encoding') {
      const rest = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s !== 'aws-chunked')
        .join(',');
      if (rest) headers[h] = rest;
      continue;
    }
    headers[h] = v;
  }
  const userMeta: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const k = name.slice('x-amz-meta-'.length);
    const v = Array.isArray(value) ? value.join(',') : value;
    userMeta[k] = v;
    metaBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (metaBytes > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', undefined, {
      Size: String(metaBytes),
      MaxSizeAllowed: String(MAX_USER_METADATA),
    });
  }
  const sc = ctx.header('x-amz-storage-class');
  if (sc !== undefined && sc !== 'STANDARD') throw new S3Error('InvalidStorageClass');
  const acl = parseObjectAcl(ctx.header('x-amz-acl'));
  const tagging = ctx.header('x-amz-tagging');
  const tags = tagging === undefined ? [] : parseTaggingHeader(tagging);
  return {
    contentType: ctx.header('content-type') ?? 'binary/octet-stream',
    headers,
    userMeta,
    ...(acl !== undefined ? { acl } : {}),
    ...(tags.length > 0 ? { tags } : {}),
  };
}

/** Headers that describe a stored object on GET/HEAD/ and (partly) PUT responses. */
export function objectHeaders(ctx: RequestContext, meta: ObjectMeta): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = {
    etag: quoteEtag(meta.etag),
    'last-modified': httpDate(meta.lastModified),
    'content-type': meta.contentType,
    'accept-ranges': 'bytes',
    ...meta.headers,
  };
  for (const [k, v] of Object.entries(meta.userMeta)) h[`x-amz-meta-${k}`] = v;
  if (meta.partsCount !== undefined) h['x-amz-mp-parts-count'] = String(meta.partsCount);
  if (meta.tags !== undefined && meta.tags.length > 0) h['x-amz-tagging-count'] = String(meta.tags.length);
  if (meta.checksum && ctx.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    h[checksumHeader(meta.checksum.algorithm)] = meta.checksum.value;
    h['x-amz-checksum-type'] = meta.checksum.type;
  }
  return h;
}

class MemoryWriter implements BlobWriter {
  readonly chunks: Buffer[] = [];
  write(chunk: Buffer): undefined {
    this.chunks.push(chunk);
    return undefined;
  }
  async finish() {
    return { size: this.chunks.reduce((n, c) => n + c.length, 0) };
  }
  async abort() {}
}

/**
 * Reads a small request body (an XML document) with every integrity check a PUT gets.
 * `requireIntegrity`: S3 insists on Content-MD5 (or a flexible checksum) for some operations.
 */
export async function readSmallBody(
  ctx: RequestContext,
  opts: { max: number; requireIntegrity?: boolean },
): Promise<string> {
  let plan: ReturnType<typeof planBody>;
  try {
    plan = planBody(ctx, opts.max);
  } catch (e) {
    if (e instanceof S3Error && e.code === 'EntityTooLarge') {
      throw new S3Error('MaxMessageLengthExceeded');
    } else throw e;
  }
  if (opts.requireIntegrity && !plan.contentMd5 && !plan.checksum) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const w = new MemoryWriter();
  await ingest(ctx, w, plan);
  return Buffer.concat(w.chunks).toString('utf8');
}

export function parseMaxKeys(v: string | null, name = 'max-keys', cap = 1000): number {
  if (v === null) return cap;
  if (!/^\d+$/.test(v))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: v,
    });
  return Math.min(Number(v), cap);
}

export function encodingType(ctx: RequestContext): ((s: string) => string) & { url: boolean } {
  const t = ctx.query.get('encoding-type');
  if (t !== null && t !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: t,
    });
  }
  const url = t === 'url';
  const f = (s: string) => (url ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  return Object.assign(f, { url });
}

/**
 * S3's conditional-request rules (RFC 9110 §13.2.2 order): If-Match, else If-Unmodified-Since →
 * 412; If-None-Match, else If-Modified-Since → 304 for GET/HEAD. When If-Match holds,
 * If-Unmodified-Since is not evaluated; when If-None-Match is present, If-Modified-Since is not.
 */
export function checkConditions(
  get: (name: string) => string | undefined,
  meta: ObjectMeta,
  names = {
    match: 'if-match',
    noneMatch: 'if-none-match',
    modSince: 'if-modified-since',
    unmodSince: 'if-unmodified-since',
  },
): 'ok' | 'not-modified' | 'failed' {
  const matches = (list: string) =>
    list.split(',').some((t) => t.trim() === '*' || unquoteEtag(t) === meta.etag);
  const date = (v: string | undefined) => {
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  };
  const lm = Math.floor(meta.lastModified / 1000) * 1000;
  const ifMatch = get(names.match);
  if (ifMatch !== undefined) {
    if (!matches(ifMatch)) return 'failed';
  } else {
    const ius = date(get(names.unmodSince));
    if (ius !== undefined && lm > ius) return 'failed';
  }
  const ifNone = get(names.noneMatch);
  if (ifNone !== undefined) {
    if (matches(ifNone)) return 'not-modified';
  } else {
    const ims = date(get(names.modSince));
    if (ims !== undefined && lm <= ims) return 'not-modified';
  }
  return 'ok';
}

export function md5Etag(md5: Buffer): string {
  return md5.toString('hex');
}
