import type { RequestContext } from '../context.ts';
import { doc, el, isoDate } from '../xml.ts';
import { ownerXml } from './common.ts';

/** GET / — every bucket (all belong to the store's one owner). */
export async function listBuckets(ctx: RequestContext): Promise<void> {
  const buckets = ctx.backend.listBuckets();
  ctx.sendXml(
    200,
    doc('ListAllMyBucketsResult', [
      ownerXml(),
      el(
        'Buckets',
        buckets.map((b) => el('Bucket', [el('Name', b.name), el('CreationDate', isoDate(b.created))])),
      ),
    ]),
  );
}
