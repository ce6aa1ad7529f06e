import { S3Error } from '@chute/errors';
import { type AuthResult, type VerifyOptions, verifyRequest, type WireRequest } from '@chute/sigv4';
import type { BucketInfo, ObjectCannedAcl } from './backend/types.ts';
import type { StoreConfig } from './config.ts';

/**
 * What an operation needs from the caller when the request is anonymous (authenticated users
 * own everything in this store):
 * - `none`: the operation authenticates by itself or needs nothing (POST form, CORS preflight);
 * - `read`: allowed on `public-read` and `public-read-write` buckets;
 * - `write`: allowed on `public-read-write` buckets;
 * - `owner`: never anonymous.
 */
/** `object-read`: reading one object, which its own canned ACL may also allow. */
export type Access = 'none' | 'read' | 'object-read' | 'write' | 'owner';

export type Verify = (req: WireRequest, opts: VerifyOptions) => AuthResult;

export function makeAuthenticator(config: StoreConfig, injected?: Verify) {
  const secrets = new Map(config.users.map((u) => [u.accessKeyId, u.secretAccessKey]));
  return (wire: WireRequest): AuthResult => {
    const verify = injected ?? verifyRequest;
    return verify(wire, {
      lookupSecret: (id) => secrets.get(id),
      now: Date.now(),
      region: config.region,
      maxSkewMs: config.maxSkewMs,
    });
  };
}

/**
 * Enforces the bucket's (or, to read an object, the object's) canned ACL for anonymous callers. `authenticated-read` grants reads to
 * any signed request, which in this store already owns everything, so it behaves as private
 * for anonymous callers.
 */
export function enforceAccess(
  auth: AuthResult,
  access: Access,
  bucket: BucketInfo | undefined,
  objectAcl?: ObjectCannedAcl,
): void {
  if (auth.kind !== 'anonymous' || access === 'none') return;
  if (access === 'owner' || !bucket) throw new S3Error('AccessDenied');
  // A bucket's READ grant (public-read, public-read-write) is "permission to list the objects in
  // the bucket" (S3's ACL overview): reading an object takes that object's own grant, as in S3 and RGW.
  if (access === 'read' && (bucket.acl === 'public-read' || bucket.acl === 'public-read-write')) return;
  // An object's public-read(-write) grants AllUsers READ on that object, whatever the bucket's.
  if (access === 'object-read' && (objectAcl === 'public-read' || objectAcl === 'public-read-write')) return;
  if (access === 'write' && bucket.acl === 'public-read-write') return;
  throw new S3Error('AccessDenied');
}
