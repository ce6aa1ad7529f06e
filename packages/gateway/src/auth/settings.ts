import type { Role } from './roles.ts';

/**
 * What authentication is configured with. The config schema (config/schema.ts) produces these;
 * the types live here so that auth depends on nothing above it.
 */
export interface JwtSettings {
  /** HS256 shared secret (≥ 32 characters). */
  readonly secret?: string | undefined;
  /** Where the IdP publishes its public keys (RS256/ES256/EdDSA tokens). */
  readonly jwksUrl?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | string[] | undefined;
  /** Claim holding the role(s): a key or a dotted path. */
  readonly rolesClaim: string;
  readonly clockToleranceSec: number;
}

export interface ApiKeySettings {
  readonly id: string;
  readonly role: Role;
  /** The user the key acts as. */
  readonly user: string;
  /** Lowercase hex SHA-256 of the key (hashApiKey). */
  readonly secretHash: string;
}

export interface AuthSettings {
  readonly jwt?: JwtSettings | undefined;
  readonly apiKeys: readonly ApiKeySettings[];
}
