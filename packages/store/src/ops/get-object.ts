import type { OutgoingHttpHeaders } from 'node:http';
import { S3Error } from '@chute/errors';
import type { ObjectMeta } from '../backend/types.ts';
import type { RequestContext } from '../context.ts';
import { checkConditions, objectHeaders } from './common.ts';

/** response-* query parameters → the response header each overrides (GetObject). */
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/**
 * A single `bytes=` range as S3 reads it: `a-b`, `a-` (open), `-n` (suffix). Anything S3 does
 * not understand (other units, several ranges, garbage) is ignored and the whole object sent.
 * Returns 'unsatisfiable' for a syntactically valid range beyond the object.
 */
export function parseRange(
  h: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (h === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function prepare(
  ctx: RequestContext,
  meta: ObjectMeta | undefined,
): { meta: ObjectMeta; headers: OutgoingHttpHeaders } | 'done' {
  if (!meta) throw new S3Error('NoSuchKey', undefined, { Key: ctx.key ?? '' });
  const c = checkConditions((n) => ctx.header(n), meta);
  if (c === 'failed') throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  const headers = objectHeaders(ctx, meta);
  if (c === 'not-modified') {
    // 304 carries the validators but no entity headers or body.
    ctx.writeHead(304, { etag: headers.etag, 'last-modified': headers['last-modified'] });
    ctx.res.end();
    return 'done';
  }
  const overrides = Object.keys(OVERRIDES).filter((q) => ctx.query.has(q));
  if (overrides.length > 0 && !ctx.authenticated) {
    throw new S3Error(
      'InvalidRequest',
      'Request specific response headers cannot be used for anonymous GET requests.',
    );
  }
  for (const q of overrides) headers[OVERRIDES[q]!] = ctx.query.get(q)!;
  return { meta, headers };
}

/** GET /bucket/key — ranges, conditionals, response-* overrides; streamed from an open file. */
export async function getObject(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const handle = await ctx.backend.openObject(ctx.bucket!, ctx.key!);
  try {
    const p = prepare(ctx, handle?.meta);
    if (p === 'done' || !handle) return;
    const { meta, headers } = p;
    const range = parseRange(ctx.header('range'), meta.size);
    if (range === 'unsatisfiable') {
      throw new S3Error('InvalidRange', undefined, {
        RangeRequested: ctx.header('range') ?? '',
        ActualObjectSize: String(meta.size),
      });
    }
    if (meta.size === 0) {
      ctx.send(200, headers);
      return;
    }
    const { start, end } = range ?? { start: 0, end: meta.size - 1 };
    if (range) {
      headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
      // A part of the object has no whole-object checksum.
      for (const k of Object.keys(headers)) if (k.startsWith('x-amz-checksum-')) delete headers[k];
    }
    headers['content-length'] = end - start + 1;
    ctx.logFields.bytesOut = end - start + 1;
    await ctx.sendObject(range ? 206 : 200, headers, handle, start, end);
  } finally {
    await handle?.close();
  }
}

/** HEAD /bucket/key — GetObject's headers, no body (Range is honoured as S3 does). */
export async function headObject(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const p = prepare(ctx, ctx.backend.headObject(ctx.bucket!, ctx.key!));
  if (p === 'done') return;
  const { meta, headers } = p;
  const range = parseRange(ctx.header('range'), meta.size);
  if (range === 'unsatisfiable') {
    throw new S3Error('InvalidRange', undefined, { ActualObjectSize: String(meta.size) });
  }
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${meta.size}`;
    ctx.writeHead(206, { ...headers, 'content-length': range.end - range.start + 1 });
  } else {
    ctx.writeHead(200, { ...headers, 'content-length': meta.size });
  }
  ctx.res.end();
}
