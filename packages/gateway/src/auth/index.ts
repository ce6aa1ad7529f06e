export {
  API_KEY_PREFIX,
  type ApiKeyConfig,
  createApiKeyVerifier,
  hashApiKey,
  newApiKey,
} from './api-keys.ts';
export { type Authenticator, createAuthenticator, type HeaderSource } from './authenticate.ts';
export { unauthenticated } from './errors.ts';
export { createJwtVerifier, type JwtConfig, type JwtVerifier } from './jwt.ts';
export { type MintOptions, mintToken } from './mint.ts';
export {
  hasRole,
  type Principal,
  ROLES,
  type Role,
  readClaim,
  requireRole,
  roleFromClaim,
} from './principal.ts';
export type { ApiKeySettings, AuthSettings, JwtSettings } from './settings.ts';
