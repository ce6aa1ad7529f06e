import { S3Error } from '@chute/errors';
import type { RequestContext } from '../context.ts';
import { compareUtf8 } from '../keys.ts';
import { doc, el, isoDate } from '../xml.ts';
import { ownerXml } from './common.ts';

/** "Valid Range: Minimum value of 1. Maximum value of 10000." — also the page size without it. */
const MAX_BUCKETS = 10_000;

/** Continuation tokens are opaque ("obfuscated and not a real bucket"): the last name, base64url. */
const token = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
function untoken(t: string): string {
  const name = Buffer.from(t, 'base64url').toString('utf8');
  if (t === '' || token(name) !== t) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  }
  return name;
}

function maxBuckets(v: string | null): number {
  if (v === null) return MAX_BUCKETS;
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= 1 && n <= MAX_BUCKETS)) {
    throw new S3Error(
      'InvalidArgument',
      `Argument max-buckets must be an integer between 1 and ${MAX_BUCKETS}`,
      {
        ArgumentName: 'max-buckets',
        ArgumentValue: v,
      },
    );
  }
  return n;
}

/**
 * GET / — the buckets (all belong to the store's one owner), in name order, `prefix`-filtered
 * and paged by `max-buckets` / `continuation-token`; the answer carries a ContinuationToken only
 * when more buckets follow, and echoes Prefix when one was sent.
 */
export async function listBuckets(ctx: RequestContext): Promise<void> {
  const prefix = ctx.query.get('prefix');
  const max = maxBuckets(ctx.query.get('max-buckets'));
  const ct = ctx.query.get('continuation-token');
  const after = ct === null ? undefined : untoken(ct);
  const matching = ctx.backend
    .listBuckets()
    .filter(
      (b) =>
        (prefix === null || b.name.startsWith(prefix)) &&
        (after === undefined || compareUtf8(b.name, after) > 0),
    );
  const page = matching.slice(0, max);
  const more = matching.length > page.length;
  ctx.sendXml(
    200,
    doc('ListAllMyBucketsResult', [
      ownerXml(),
      el(
        'Buckets',
        page.map((b) => el('Bucket', [el('Name', b.name), el('CreationDate', isoDate(b.created))])),
      ),
      more ? el('ContinuationToken', token(page[page.length - 1]!.name)) : '',
      prefix !== null ? el('Prefix', prefix) : '',
    ]),
  );
}
