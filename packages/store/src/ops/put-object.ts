import { S3Error } from '@chute/errors';
import type { ObjectMeta } from '../backend/types.ts';
import { checksumHeader } from '../body/checksums.ts';
import { ingest, MAX_PUT_BYTES, planBody } from '../body/ingest.ts';
import type { RequestContext } from '../context.ts';
import { checkKey } from '../keys.ts';
import { attrsFromHeaders, md5Etag, quoteEtag, unquoteEtag } from './common.ts';

/**
 * Conditional writes (S3, 2024): `If-None-Match: *` creates only if the key is absent;
 * `If-Match: "etag"` overwrites only that version. Decided at commit time, under the key's lock,
 * so two racing creators cannot both succeed.
 */
export function writeCondition(ctx: RequestContext): ((current: ObjectMeta | undefined) => void) | undefined {
  const none = ctx.header('if-none-match');
  const match = ctx.header('if-match');
  if (none === undefined && match === undefined) return undefined;
  if (none !== undefined && none.trim() !== '*') {
    throw new S3Error('NotImplemented', 'If-None-Match on writes only supports *', {
      Header: 'If-None-Match',
    });
  }
  return (current) => {
    if (none !== undefined && current)
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
    if (match !== undefined && (!current || !checkEtagList(match, current.etag))) {
      if (!current) throw new S3Error('NoSuchKey', undefined, { Key: ctx.key ?? '' });
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
    }
  };
}

const checkEtagList = (list: string, etag: string) =>
  list.split(',').some((t) => t.trim() === '*' || unquoteEtag(t) === etag);

/** PUT /bucket/key — the body streams to a new blob; the key flips to it only when verified. */
export async function putObject(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const key = ctx.requireKey();
  checkKey(key);
  const attrs = attrsFromHeaders(ctx);
  const plan = planBody(ctx, MAX_PUT_BYTES);

  const condition = writeCondition(ctx);
  // Checked before the body too, so a doomed upload is refused before its bytes are sent.
  condition?.(ctx.backend.headObject(ctx.bucket!, key));
  const blob = await ctx.backend.newBlob(ctx.bucket!, plan.length);
  try {
    const body = await ingest(ctx, blob, plan);
    const { size } = await blob.finish();
    const meta = await ctx.backend.commitObject(
      ctx.bucket!,
      key,
      blob,
      { ...attrs, checksum: body.checksum, size, etag: md5Etag(body.md5) },
      condition,
    );
    const headers: Record<string, string> = { etag: quoteEtag(meta.etag) };
    if (body.checksum) {
      headers[checksumHeader(body.checksum.algorithm)] = body.checksum.value;
      headers['x-amz-checksum-type'] = body.checksum.type;
    }
    ctx.send(200, headers);
  } finally {
    await blob.abort(); // no-op once committed
  }
}
