import { createHash } from 'node:crypto';
import { S3Error } from '@chute/errors';
import type { PartInfo, StoredChecksum } from '../backend/types.ts';
import { checksumHeader, checksummer, parseAlgorithm } from '../body/checksums.ts';
import { ingest, MAX_PUT_BYTES, planBody } from '../body/ingest.ts';
import type { RequestContext } from '../context.ts';
import { checkKey } from '../keys.ts';
import { doc, el, isoDate, parseXml, text } from '../xml.ts';
import {
  attrsFromHeaders,
  md5Etag,
  ownerXml,
  parseMaxKeys,
  quoteEtag,
  readSmallBody,
  unquoteEtag,
} from './common.ts';

/** "Part numbers can be any number from 1 to 10,000, inclusive." */
const MAX_PART_NUMBER = 10000;
/** "Each part must be at least 5 MB in size, except the last part." */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export function upload(ctx: RequestContext) {
  ctx.requireBucket();
  const id = ctx.query.get('uploadId') ?? '';
  const u = ctx.backend.getUpload(ctx.bucket!, id);
  // An id for another key of the same bucket is as unknown as a made-up one.
  if (!u || u.key !== ctx.key) throw new S3Error('NoSuchUpload', undefined, { UploadId: id });
  return u;
}

/** POST /bucket/key?uploads */
export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const key = ctx.requireKey();
  checkKey(key);
  const attrs = attrsFromHeaders(ctx);
  const checksumAlgorithm = parseAlgorithm(ctx.header('x-amz-checksum-algorithm'));
  const typeHeader = ctx.header('x-amz-checksum-type')?.toUpperCase();
  if (typeHeader !== undefined && typeHeader !== 'COMPOSITE') {
    throw new S3Error('NotImplemented', 'Only COMPOSITE multipart checksums are implemented by chute s3');
  }
  const u = await ctx.backend.createUpload({
    bucket: ctx.bucket!,
    key,
    attrs,
    checksumAlgorithm,
    checksumType: checksumAlgorithm ? 'COMPOSITE' : undefined,
  });
  const headers: Record<string, string> = {};
  if (checksumAlgorithm) {
    headers['x-amz-checksum-algorithm'] = checksumAlgorithm;
    headers['x-amz-checksum-type'] = 'COMPOSITE';
  }
  ctx.sendXml(
    200,
    doc('InitiateMultipartUploadResult', [
      el('Bucket', ctx.bucket),
      el('Key', key),
      el('UploadId', u.uploadId),
    ]),
    headers,
  );
}

export function partNumber(ctx: RequestContext): number {
  const v = ctx.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: v,
    });
  }
  return n;
}

/** PUT /bucket/key?partNumber=N&uploadId=… */
export async function uploadPart(ctx: RequestContext): Promise<void> {
  const u = upload(ctx);
  const n = partNumber(ctx);
  const plan = planBody(ctx, MAX_PUT_BYTES);
  if (u.checksumAlgorithm && plan.checksum && plan.checksum.algorithm !== u.checksumAlgorithm) {
    throw new S3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${u.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${plan.checksum.algorithm.toLowerCase()}`,
    );
  }
  if (u.checksumAlgorithm && !plan.checksum)
    plan.checksum = { algorithm: u.checksumAlgorithm, trailer: false };
  const blob = await ctx.backend.newBlob(ctx.bucket!, plan.length);
  try {
    const body = await ingest(ctx, blob, plan);
    const { size } = await blob.finish();
    const part = await ctx.backend.putPart(ctx.bucket!, u.uploadId, n, blob, {
      size,
      etag: md5Etag(body.md5),
      checksum: body.checksum,
    });
    const headers: Record<string, string> = { etag: quoteEtag(part.etag) };
    if (body.checksum) headers[checksumHeader(body.checksum.algorithm)] = body.checksum.value;
    ctx.send(200, headers);
  } finally {
    await blob.abort();
  }
}

/**
 * POST /bucket/key?uploadId=… — parts listed in ascending order, each known with its ETag,
 * every one but the last at least 5 MiB. The object's ETag is MD5(concatenated part MD5s)-N.
 */
export async function completeMultipartUpload(ctx: RequestContext): Promise<void> {
  const u = upload(ctx);
  const body = await readSmallBody(ctx, { max: 4 * 1024 * 1024 });
  const xml = parseXml(body, 'CompleteMultipartUpload');
  const listed = xml.Part;
  if (!Array.isArray(listed) || listed.length === 0) throw new S3Error('MalformedXML');
  const stored = new Map(ctx.backend.listParts(ctx.bucket!, u.uploadId).map((p) => [p.partNumber, p]));
  const chosen: PartInfo[] = [];
  let prev = 0;
  for (const p of listed) {
    const numText = text(p, 'PartNumber');
    const etagText = text(p, 'ETag');
    if (numText === undefined || etagText === undefined || !/^\d+$/.test(numText.trim()))
      throw new S3Error('MalformedXML');
    const n = Number(numText.trim());
    if (n <= prev) throw new S3Error('InvalidPartOrder');
    prev = n;
    const part = stored.get(n);
    if (!part || part.etag !== unquoteEtag(etagText)) {
      throw new S3Error('InvalidPart', undefined, {
        UploadId: u.uploadId,
        PartNumber: String(n),
        ETag: etagText,
      });
    }
    if (u.checksumAlgorithm && part.checksum) {
      const claimed = text(p, `Checksum${u.checksumAlgorithm}`);
      if (claimed !== undefined && claimed !== part.checksum.value) {
        throw new S3Error('InvalidPart', undefined, { UploadId: u.uploadId, PartNumber: String(n) });
      }
    }
    chosen.push(part);
  }
  for (let i = 0; i < chosen.length - 1; i++) {
    const part = chosen[i]!;
    if (part.size < MIN_PART_BYTES) {
      throw new S3Error('EntityTooSmall', undefined, {
        ProposedSize: String(part.size),
        MinSizeAllowed: String(MIN_PART_BYTES),
        PartNumber: String(part.partNumber),
        ETag: quoteEtag(part.etag),
      });
    }
  }
  const md5 = createHash('md5');
  for (const part of chosen) md5.update(Buffer.from(part.etag, 'hex'));
  const etag = `${md5.digest('hex')}-${chosen.length}`;
  let checksum: StoredChecksum | undefined;
  if (u.checksumAlgorithm && chosen.every((p) => p.checksum?.algorithm === u.checksumAlgorithm)) {
    const sum = checksummer(u.checksumAlgorithm);
    for (const part of chosen) sum.update(Buffer.from(part.checksum!.value, 'base64'));
    checksum = {
      algorithm: u.checksumAlgorithm,
      value: `${sum.digest()}-${chosen.length}`,
      type: 'COMPOSITE',
    };
  }
  const meta = await ctx.backend.completeUpload(ctx.bucket!, u.uploadId, chosen, { etag, checksum });
  const host = ctx.header('host') ?? `${ctx.config.host}:${ctx.config.port}`;
  ctx.sendXml(
    200,
    doc('CompleteMultipartUploadResult', [
      el('Location', `http://${host}/${ctx.bucket}/${encodeURIComponent(meta.key).replace(/%2F/g, '/')}`),
      el('Bucket', ctx.bucket),
      el('Key', meta.key),
      el('ETag', quoteEtag(meta.etag)),
      checksum ? el(`Checksum${checksum.algorithm}`, checksum.value) : '',
      checksum ? el('ChecksumType', checksum.type) : '',
    ]),
  );
}

/** DELETE /bucket/key?uploadId=… */
export async function abortMultipartUpload(ctx: RequestContext): Promise<void> {
  const u = upload(ctx);
  await ctx.backend.abortUpload(ctx.bucket!, u.uploadId);
  ctx.send(204);
}

/** GET /bucket/key?uploadId=… */
export async function listParts(ctx: RequestContext): Promise<void> {
  const u = upload(ctx);
  const maxParts = parseMaxKeys(ctx.query.get('max-parts'), 'max-parts');
  const markerText = ctx.query.get('part-number-marker') ?? '0';
  if (!/^\d+$/.test(markerText))
    throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'part-number-marker' });
  const marker = Number(markerText);
  const all = ctx.backend.listParts(ctx.bucket!, u.uploadId).filter((p) => p.partNumber > marker);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  const initiator = el('Initiator', [el('ID', 'chute'), el('DisplayName', 'chute')]);
  ctx.sendXml(
    200,
    doc('ListPartsResult', [
      el('Bucket', ctx.bucket),
      el('Key', u.key),
      el('UploadId', u.uploadId),
      initiator,
      ownerXml(),
      el('StorageClass', 'STANDARD'),
      el('PartNumberMarker', marker),
      el('NextPartNumberMarker', page.length ? page[page.length - 1]!.partNumber : marker),
      el('MaxParts', maxParts),
      el('IsTruncated', truncated),
      u.checksumAlgorithm ? el('ChecksumAlgorithm', u.checksumAlgorithm) : '',
      ...page.map((p) =>
        el('Part', [
          el('PartNumber', p.partNumber),
          el('LastModified', isoDate(p.lastModified)),
          el('ETag', quoteEtag(p.etag)),
          el('Size', p.size),
          p.checksum ? el(`Checksum${p.checksum.algorithm}`, p.checksum.value) : '',
        ]),
      ),
    ]),
  );
}

/** GET /bucket?uploads — in-progress uploads, ordered by key then initiation time. */
export async function listMultipartUploads(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const idMarker = ctx.query.get('upload-id-marker') ?? '';
  const max = parseMaxKeys(ctx.query.get('max-uploads'), 'max-uploads');
  const entries: (
    | { kind: 'u'; u: ReturnType<typeof ctx.backend.listUploads>[number] }
    | { kind: 'p'; p: string }
  )[] = [];
  let truncated = false;
  const seen = new Set<string>();
  for (const u of ctx.backend.listUploads(ctx.bucket!)) {
    if (!u.key.startsWith(prefix)) continue;
    if (keyMarker && (u.key < keyMarker || (u.key === keyMarker && (!idMarker || u.uploadId <= idMarker))))
      continue;
    let cp: string | undefined;
    if (delimiter) {
      const d = u.key.indexOf(delimiter, prefix.length);
      if (d >= 0) cp = u.key.slice(0, d + delimiter.length);
    }
    if (cp !== undefined && seen.has(cp)) continue;
    if (entries.length >= max) {
      truncated = true;
      break;
    }
    if (cp !== undefined) {
      seen.add(cp);
      entries.push({ kind: 'p', p: cp });
    } else entries.push({ kind: 'u', u });
  }
  const lastU = [...entries].reverse().find((e) => e.kind === 'u');
  ctx.sendXml(
    200,
    doc('ListMultipartUploadsResult', [
      el('Bucket', ctx.bucket),
      el('KeyMarker', keyMarker),
      el('UploadIdMarker', idMarker),
      truncated && lastU?.kind === 'u' ? el('NextKeyMarker', lastU.u.key) : '',
      truncated && lastU?.kind === 'u' ? el('NextUploadIdMarker', lastU.u.uploadId) : '',
      el('Prefix', prefix),
      delimiter ? el('Delimiter', delimiter) : '',
      el('MaxUploads', max),
      el('IsTruncated', truncated),
      ...entries.map((e) =>
        e.kind === 'p'
          ? el('CommonPrefixes', [el('Prefix', e.p)])
          : el('Upload', [
              el('Key', e.u.key),
              el('UploadId', e.u.uploadId),
              el('Initiator', [el('ID', 'chute'), el('DisplayName', 'chute')]),
              ownerXml(),
              el('StorageClass', 'STANDARD'),
              el('Initiated', isoDate(e.u.initiated)),
            ]),
      ),
    ]),
  );
}
