import type { Context } from 'hono';
import type { Principal } from '../auth/principal.ts';
import type { Actor } from '../db/audit.ts';
import type { Services } from '../services.ts';

/** Hono's per-request variables: what middleware learns about a request for the access log. */
export interface Env {
  Variables: {
    requestId: string;
    /** Set once the request authenticated (for the access log). */
    principal: Principal | undefined;
  };
}

export type Ctx = Context<Env>;

/** Authenticates the caller (401 without valid credentials) and records who it was for the log. */
export async function authenticate(c: Ctx, services: Services): Promise<Principal> {
  const principal = await services.auth.authenticate(c.req.raw.headers);
  c.set('principal', principal);
  return principal;
}

/** The caller as the audit trail records them: who, in which role, in which request. */
export function actorOf(c: Ctx, principal: Principal): Actor {
  return { id: principal.userId, role: principal.role, requestId: c.get('requestId') };
}
