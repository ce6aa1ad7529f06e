import type { webcrypto } from 'node:crypto';
import { ChuteError } from '@chute/errors';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { isUserId } from '../domain/ids.ts';
import { unauthenticated } from './errors.ts';
import { type Principal, readClaim, roleFromClaim } from './principal.ts';
import type { JwtSettings } from './settings.ts';

export type JwtConfig = JwtSettings;

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

/** Verified tokens remembered (bounded), so a client's every request does not pay an HMAC/RSA verify. */
const CACHE_MAX = 10_000;
/**
 * A cached verdict is reused for at most this long, even if the token lives longer: a key removed
 * from the JWKS (rotation after a leak) stops being honoured within a minute.
 */
const CACHE_TTL_MS = 60_000;

export function createJwtVerifier(config: JwtConfig, clock: () => number = Date.now): JwtVerifier {
  let key: Uint8Array | webcrypto.CryptoKey | JWTVerifyGetKey;
  let algorithms: string[];
  let secret: Uint8Array<ArrayBuffer> | undefined;
  if (config.secret !== undefined) {
    secret = new TextEncoder().encode(config.secret);
    key = secret;
    algorithms = HMAC;
  } else if (config.jwksUrl !== undefined) {
    // jose caches the set, refetches on an unknown kid at most every 30 s (cooldown).
    key = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    algorithms = ASYMMETRIC;
  } else {
    throw new TypeError('auth.jwt needs secret or jwksUrl');
  }

  const cache = new Map<string, { principal: Principal; until: number }>();

  return async (token) => {
    const now = clock();
    const hit = cache.get(token);
    if (hit !== undefined) {
      if (now < hit.until) return hit.principal;
      cache.delete(token);
    }
    if (secret !== undefined) {
      // Imported once, on first use: given raw bytes, jose imports a CryptoKey on every verify.
      key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
        'verify',
      ]);
      secret = undefined;
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        ...(config.issuer !== undefined && { issuer: config.issuer }),
        ...(config.audience !== undefined && { audience: config.audience }),
        clockTolerance: config.clockToleranceSec,
        currentDate: new Date(now),
        // A token without exp would be valid forever.
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      throw mapJoseError(e);
    }
    if (!isUserId(payload.sub))
      throw unauthenticated('invalid_token', 'Token subject is not a valid user id');
    const principal: Principal = {
      userId: payload.sub,
      role: roleFromClaim(readClaim(payload, config.rolesClaim)),
      via: 'jwt',
      expiresAt: payload.exp! * 1000,
    };
    // Valid while jose would still accept it (exp + tolerance), and never longer than the TTL.
    const until = Math.min((payload.exp! + config.clockToleranceSec) * 1000, now + CACHE_TTL_MS);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(token, { principal, until });
    return principal;
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
