import { ChuteError } from '@chute/errors';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { GatewayConfig } from '../config/parse.ts';
import { isUserId } from '../ids.ts';
import { unauthenticated } from './errors.ts';
import { type Principal, readClaim, roleFromClaim } from './principal.ts';

export type JwtConfig = NonNullable<GatewayConfig['auth']['jwt']>;

/**
 * Algorithms accepted per key source. An allow-list, never the token's own `alg`: `none` is
 * refused, and a JWKS (public keys) never accepts HS256, which would let anyone holding the
 * public key forge tokens (the RS256→HS256 confusion attack).
 */
const HMAC = ['HS256'];
const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export type JwtVerifier = (token: string) => Promise<Principal>;

export function createJwtVerifier(config: JwtConfig): JwtVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (config.secret !== undefined) {
    key = new TextEncoder().encode(config.secret);
    algorithms = HMAC;
  } else if (config.jwksUrl !== undefined) {
    // jose caches the set, refetches on an unknown kid at most every 30 s (cooldown).
    key = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    algorithms = ASYMMETRIC;
  } else {
    throw new TypeError('auth.jwt needs secret or jwksUrl');
  }

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        ...(config.issuer !== undefined && { issuer: config.issuer }),
        ...(config.audience !== undefined && { audience: config.audience }),
        clockTolerance: config.clockToleranceSec,
        // A token without exp would be valid forever.
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      throw mapJoseError(e);
    }
    if (!isUserId(payload.sub))
      throw unauthenticated('invalid_token', 'Token subject is not a valid user id');
    return { userId: payload.sub, role: roleFromClaim(readClaim(payload, config.rolesClaim)), via: 'jwt' };
  };
}

/**
 * A bad token is the caller's problem (401); an unreachable or broken key set is ours (503):
 * answering 401 then would make clients throw away good tokens.
 */
function mapJoseError(e: unknown): ChuteError {
  if (e instanceof errors.JWTExpired) return unauthenticated('invalid_token', 'Token expired');
  if (
    e instanceof errors.JWKSTimeout ||
    e instanceof errors.JWKSInvalid ||
    !(e instanceof errors.JOSEError)
  ) {
    return new ChuteError('unavailable', { retryAfter: 5, cause: e });
  }
  if (e.code === 'ERR_JOSE_GENERIC') return new ChuteError('unavailable', { retryAfter: 5, cause: e });
  return unauthenticated('invalid_token', 'Invalid token');
}
