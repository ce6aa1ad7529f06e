import type { IncomingHttpHeaders } from 'node:http';
import { ChuteError } from '@chute/errors';
import { API_KEY_PREFIX, createApiKeyVerifier } from './api-keys.ts';
import { unauthenticated } from './errors.ts';
import { createJwtVerifier } from './jwt.ts';
import type { Principal } from './principal.ts';
import type { AuthSettings } from './settings.ts';

/** Request headers from node:http or fetch. */
export type HeaderSource = Headers | IncomingHttpHeaders;

function header(h: HeaderSource, name: string): string | undefined {
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const v = h[name];
  if (Array.isArray(v)) {
    // Two Authorization headers: which one a proxy and we would read could differ.
    throw new ChuteError('invalid_request', { message: `Send one ${name} header.` });
  }
  return v;
}

/** RFC 6750 §2.1: `Bearer` (case-insensitive), one space, a token68. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export interface Authenticator {
  /** The caller, or throws unauthenticated (401) / unavailable (503, the IdP's keys unreachable). */
  authenticate(headers: HeaderSource): Promise<Principal>;
}

/**
 * `Authorization: Bearer <jwt>`, `Authorization: Bearer ck_…` or `X-Api-Key: ck_…`. No
 * credentials → 401: the gateway never grants to anonymous users.
 */
export function createAuthenticator(auth: AuthSettings): Authenticator {
  const verifyJwt = auth.jwt === undefined ? undefined : createJwtVerifier(auth.jwt);
  const verifyKey = createApiKeyVerifier(auth.apiKeys);

  const byKey = (key: string): Principal => {
    const p = verifyKey(key);
    if (p === undefined) throw unauthenticated('invalid_token', 'Invalid API key');
    return p;
  };

  return {
    async authenticate(headers) {
      const authorization = header(headers, 'authorization');
      const apiKey = header(headers, 'x-api-key');
      if (authorization !== undefined && apiKey !== undefined) {
        throw unauthenticated('invalid_request', 'Send Authorization or X-Api-Key, not both');
      }
      if (apiKey !== undefined) return byKey(apiKey.trim());
      if (authorization === undefined) throw unauthenticated();
      const m = BEARER.exec(authorization.trim());
      if (!m) throw unauthenticated('invalid_request', 'Authorization must be Bearer <token>');
      const token = m[1]!;
      if (token.startsWith(API_KEY_PREFIX)) return byKey(token);
      if (verifyJwt === undefined) throw unauthenticated('invalid_token', 'Invalid token');
      return verifyJwt(token);
    },
  };
}
