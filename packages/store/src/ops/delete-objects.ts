import { S3Error } from '@chute/errors';
import type { RequestContext } from '../context.ts';
import { doc, el, parseXml, text } from '../xml.ts';
import { readSmallBody } from './common.ts';

/** "you can delete up to 1000 objects with a single request" (DeleteObjects). */
const MAX_KEYS = 1000;

/**
 * POST /bucket?delete — S3 requires Content-MD5 (or a flexible checksum) on this request.
 * Per-key failures are reported in the result, not as the request's status.
 */
export async function deleteObjects(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const body = await readSmallBody(ctx, { max: 2 * 1024 * 1024, requireIntegrity: true });
  const d = parseXml(body, 'Delete');
  const objects = d.Object;
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_KEYS)
    throw new S3Error('MalformedXML');
  const quietText = text(d, 'Quiet');
  if (quietText !== undefined && quietText !== 'true' && quietText !== 'false')
    throw new S3Error('MalformedXML');
  const quiet = quietText === 'true';
  const out: string[] = [];
  for (const o of objects) {
    const key = text(o, 'Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    const versionId = text(o, 'VersionId');
    const idXml = versionId !== undefined ? el('VersionId', versionId) : '';
    try {
      if (versionId !== undefined && versionId !== 'null') {
        throw new S3Error('InvalidArgument', 'Invalid version id specified');
      }
      await ctx.backend.deleteObject(ctx.bucket!, key);
      if (!quiet) out.push(el('Deleted', [el('Key', key), idXml]));
    } catch (e) {
      const s3 = e instanceof S3Error ? e : new S3Error('InternalError');
      if (!(e instanceof S3Error)) ctx.log({ level: 'error', requestId: ctx.requestId, error: String(e) });
      out.push(el('Error', [el('Key', key), idXml, el('Code', s3.code), el('Message', s3.message)]));
    }
  }
  ctx.sendXml(200, doc('DeleteResult', out));
}
