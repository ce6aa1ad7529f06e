import type { Context } from 'hono';
import type { Principal } from '../auth/principal.ts';
import type { Completer } from '../complete.ts';
import type { Deps } from '../deps.ts';

/** What the API's handlers are given besides the request. */
export interface Api extends Deps {
  readonly completer: Completer;
}

export interface Env {
  Variables: {
    requestId: string;
    /** Set once the request authenticated (for the access log). */
    principal: Principal | undefined;
  };
}

export type Ctx = Context<Env>;

/** Authenticates the caller (401 without valid credentials) and records who it was for the log. */
export async function authenticate(c: Ctx, api: Api): Promise<Principal> {
  const principal = await api.auth.authenticate(c.req.raw.headers);
  c.set('principal', principal);
  return principal;
}
