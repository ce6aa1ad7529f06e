import { createHash } from 'node:crypto';
import { S3Error } from '@chute/errors';
import type { RequestContext } from '../context.ts';
import { doc, el, isoDate } from '../xml.ts';
import { quoteEtag } from './common.ts';
import { copySource, parseCopySource } from './copy-object.ts';
import { partNumber, upload } from './multipart.ts';

/** "bytes=first-last", both zero-based and inclusive (UploadPartCopy). */
function copyRange(v: string | undefined, size: number): { start: number; end: number } {
  if (v === undefined) return { start: 0, end: size - 1 };
  const m = /^bytes=(\d+)-(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: v },
    );
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end >= size) throw new S3Error('InvalidRange', undefined, { ActualObjectSize: String(size) });
  return { start, end };
}

/**
 * PUT /bucket/key?partNumber=N&uploadId=… with x-amz-copy-source — a part made of (a range of)
 * an existing object. Bytes are copied here (a part is a slice, not a whole file to link).
 */
export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const u = upload(ctx);
  const n = partNumber(ctx);
  const meta = copySource(ctx);
  const src = parseCopySource(ctx.header('x-amz-copy-source')!);
  const range =
    meta.size === 0 ? { start: 0, end: -1 } : copyRange(ctx.header('x-amz-copy-source-range'), meta.size);
  const handle = await ctx.backend.openObject(src.bucket, src.key);
  if (!handle || handle.meta.etag !== meta.etag) {
    await handle?.close();
    throw new S3Error('PreconditionFailed');
  }
  const blob = await ctx.backend.newBlob(ctx.bucket!);
  try {
    const md5 = createHash('md5');
    if (range.end >= range.start) {
      for await (const chunk of handle.stream(range.start, range.end)) {
        md5.update(chunk as Buffer);
        const p = blob.write(chunk as Buffer);
        if (p) await p;
      }
    } else await handle.close();
    const { size } = await blob.finish();
    const part = await ctx.backend.putPart(ctx.bucket!, u.uploadId, n, blob, {
      size,
      etag: md5.digest('hex'),
    });
    ctx.sendXml(
      200,
      doc('CopyPartResult', [
        el('LastModified', isoDate(part.lastModified)),
        el('ETag', quoteEtag(part.etag)),
      ]),
    );
  } finally {
    await blob.abort();
  }
}
