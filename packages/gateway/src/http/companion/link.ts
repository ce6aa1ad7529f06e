import { createHmac, timingSafeEqual } from 'node:crypto';
import { ROLES, type Role } from '../../auth/roles.ts';
import { isUserId } from '../../domain/ids.ts';

/**
 * A Companion link: the `companionEndpoint` an app hands @uppy/aws-s3. Uppy's Companion client
 * (6.x) calls `fetch(companionEndpoint + '/s3/…')` with no way to add an Authorization header, so
 * the credential travels in the path: `/v1/companion/{link}`, where the link is
 * `cl1.<base64url JSON {u, role, route, exp}>.<base64url HMAC-SHA256>` under `companion.secret`.
 * It is narrower than the user's token: one user, one route, the Companion calls only, until `exp`.
 * A link for one route or user cannot be turned into one for another or a later deadline.
 */
export interface LinkClaims {
  userId: string;
  role: Role;
  route: string;
  /** Deadline, epoch ms. */
  exp: number;
}

const PREFIX = 'cl1';
const SHAPE = /^cl1\.([A-Za-z0-9_-]{1,1024})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`chute-companion-v1\n${payload}`).digest();
}

export function signCompanionLink(secret: string, claims: LinkClaims): string {
  const payload = Buffer.from(
    JSON.stringify({ u: claims.userId, role: claims.role, route: claims.route, exp: claims.exp }),
  ).toString('base64url');
  return `${PREFIX}.${payload}.${mac(secret, payload).toString('base64url')}`;
}

/**
 * The link's claims when its signature holds (checked before the payload is parsed), else
 * undefined. The deadline is the caller's to check: an expired link gets its own message.
 */
export function readCompanionLink(secret: string, link: string): LinkClaims | undefined {
  const m = SHAPE.exec(link);
  if (m === null) return undefined;
  const expected = mac(secret, m[1]!);
  const given = Buffer.from(m[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const { u, role, route, exp } = (json ?? {}) as Record<string, unknown>;
  if (typeof u !== 'string' || !isUserId(u)) return undefined;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) return undefined;
  if (typeof route !== 'string' || typeof exp !== 'number' || !Number.isSafeInteger(exp)) return undefined;
  return { userId: u, role: role as Role, route, exp };
}

/** The access log's path: a link is a credential, so it never reaches the log. */
export function redactLinkPath(path: string): string {
  return path.startsWith('/v1/companion/')
    ? path.replace(/^\/v1\/companion\/[^/]+/, '/v1/companion/…')
    : path;
}
