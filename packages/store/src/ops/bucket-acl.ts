import { S3Error } from '@chute/errors';
import { parseCannedAcl } from '../acl.ts';
import type { RequestContext } from '../context.ts';
import { doc, el } from '../xml.ts';
import { OWNER_ID, OWNER_NAME, ownerXml, readSmallBody } from './common.ts';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** PUT /bucket?acl — canned ACLs only (x-amz-acl); explicit grants are not implemented. */
export async function putBucketAcl(ctx: RequestContext): Promise<void> {
  ctx.requireBucket();
  const acl = parseCannedAcl(ctx.header('x-amz-acl'));
  const body = await readSmallBody(ctx, { max: 64 * 1024 });
  if (acl === undefined) {
    if (body.trim() === '')
      throw new S3Error('MissingSecurityHeader', undefined, { MissingHeaderName: 'x-amz-acl' });
    throw new S3Error('NotImplemented', 'Only canned ACLs (x-amz-acl) are implemented by chute s3');
  }
  await ctx.backend.updateBucket(ctx.bucket!, { acl });
  ctx.send(200);
}

/** GET /bucket?acl — the canned ACL spelled out as grants. */
export async function getBucketAcl(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  const grant = (grantee: string, permission: string) => el('Grant', [grantee, el('Permission', permission)]);
  const group = (uri: string) =>
    `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">${el('URI', uri)}</Grantee>`;
  const owner = `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${el('ID', OWNER_ID)}${el('DisplayName', OWNER_NAME)}</Grantee>`;
  const grants = [grant(owner, 'FULL_CONTROL')];
  if (bucket.acl === 'public-read' || bucket.acl === 'public-read-write')
    grants.push(grant(group(ALL_USERS), 'READ'));
  if (bucket.acl === 'public-read-write') grants.push(grant(group(ALL_USERS), 'WRITE'));
  if (bucket.acl === 'authenticated-read') grants.push(grant(group(AUTH_USERS), 'READ'));
  ctx.sendXml(200, doc('AccessControlPolicy', [ownerXml(), el('AccessControlList', grants)]));
}
