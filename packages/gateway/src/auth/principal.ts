import { ChuteError } from '@chute/errors';
import { ROLES, type Role } from './roles.ts';

export { ROLES, type Role };

/** Who is calling, once authenticated. `userId` is safe to put in a storage key. */
export interface Principal {
  userId: string;
  role: Role;
  /** companion-link: Uppy's calls, authenticated by a signed link (companion/link.ts). */
  via: 'jwt' | 'api-key' | 'companion-link';
  /** The API key's id, when via is 'api-key'. */
  keyId?: string;
  /**
   * When the credential stops being valid (epoch ms): a JWT's `exp`. Anything derived from it (a
   * Companion link) must not outlive it. API keys do not expire.
   */
  expiresAt?: number;
}

/** Each role can do what the roles before it can: a reviewer may also upload, an admin anything. */
const RANK: Record<Role, number> = { uploader: 0, reviewer: 1, admin: 2 };

export function hasRole(p: Principal, role: Role): boolean {
  return RANK[p.role] >= RANK[role];
}

/** Throws forbidden (403) unless the principal has at least `role`. */
export function requireRole(p: Principal, role: Role): void {
  if (!hasRole(p, role)) throw new ChuteError('forbidden', { message: `This needs the ${role} role.` });
}

/**
 * The role named by a claim value: a string or an array of strings; unknown names are ignored
 * (an IdP sends many roles that are not ours); the highest of ours wins; none → uploader.
 */
export function roleFromClaim(value: unknown): Role {
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  let best: Role = 'uploader';
  for (const n of names) {
    if (typeof n === 'string' && Object.hasOwn(RANK, n) && RANK[n as Role] > RANK[best]) best = n as Role;
  }
  return best;
}

/**
 * A claim by name: the exact key first (namespaced claims such as `https://example.com/roles`
 * contain dots), then as a dotted path (Keycloak's `realm_access.roles`).
 */
export function readClaim(payload: Record<string, unknown>, claim: string): unknown {
  if (Object.hasOwn(payload, claim)) return payload[claim];
  let v: unknown = payload;
  for (const part of claim.split('.')) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}
