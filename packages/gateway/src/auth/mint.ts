import { SignJWT } from 'jose';
import { assertUserId } from '../domain/ids.ts';
import type { Role } from './principal.ts';

export interface MintOptions {
  user: string;
  role?: Role;
  /** The HS256 secret of `auth.jwt.secret`. */
  secret: string;
  /** Lifetime in seconds; default 3600. */
  ttl?: number;
  issuer?: string;
  audience?: string | string[];
  /** Where the role goes; default `roles` (as `["reviewer"]`). */
  rolesClaim?: string;
  /** Issue time, epoch ms (tests). */
  now?: number;
}

/** An HS256 token the gateway accepts, for `chute token`, scripts and tests. */
export async function mintToken(options: MintOptions): Promise<string> {
  const ttl = options.ttl ?? 3600;
  if (!Number.isSafeInteger(ttl) || ttl < 1)
    throw new RangeError('ttl must be a whole number of seconds ≥ 1');
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const jwt = new SignJWT({ [options.rolesClaim ?? 'roles']: [options.role ?? 'uploader'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(assertUserId(options.user))
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
