// Canned ACLs as request headers and form fields name them; an unknown one is 400 InvalidArgument.
import { S3Error } from '@chute/errors';
import { CANNED_ACLS, type CannedAcl, OBJECT_CANNED_ACLS, type ObjectCannedAcl } from './backend/types.ts';

/** An object's canned ACL; `private` (the default) is kept as no ACL at all. */
export function parseObjectAcl(v: string | undefined): ObjectCannedAcl | undefined {
  if (v === undefined) return undefined;
  if (!(OBJECT_CANNED_ACLS as readonly string[]).includes(v)) {
    throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: v });
  }
  return v === 'private' ? undefined : (v as ObjectCannedAcl);
}

export function parseCannedAcl(v: string | undefined): CannedAcl | undefined {
  if (v === undefined) return undefined;
  if (!(CANNED_ACLS as readonly string[]).includes(v)) {
    throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: v });
  }
  return v as CannedAcl;
}
