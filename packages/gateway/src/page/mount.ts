import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ChuteError } from '@chute/errors';
import type { Hono } from 'hono';
import { mintToken } from '../auth/mint.ts';
import type { Role } from '../auth/principal.ts';
import type { GatewayConfig } from '../config/parse.ts';
import type { Env } from '../http/context.ts';
import { formatSize } from '../units/size.ts';

/**
 * The upload page at `/`: one HTML file and one ES module, no build step, served with a strict
 * Content-Security-Policy. It talks to the API like any other client (grant → POST to storage →
 * complete); the only thing it has that other clients lack is, in dev mode, POST /dev/token.
 */

export interface DemoUser {
  id: string;
  role: Role;
}

export interface PageOptions {
  /**
   * Dev mode only (`chute dev`): the users the page offers, and the only users POST /dev/token
   * mints a token for. Without it the endpoint does not exist and the page asks for a token:
   * anyone who can reach a gateway with demo users can act as them.
   */
  demoUsers?: readonly DemoUser[];
  /** Dev mode: where the built-in webhook receiver lists what it got (the page shows it). */
  webhookLog?: string;
}

const HTML = readFileSync(new URL('./index.html', import.meta.url), 'utf8');
/** The page's ES modules, served under /ui/; page.js imports the others. */
const MODULES = new Map(
  ['page.js', 'common.js', 'upload.js', 'uploads.js', 'review.js', 'webhooks.js'].map((f) => [
    f,
    readFileSync(new URL(`./${f}`, import.meta.url), 'utf8'),
  ]),
);
const DEMO_TOKEN_SECONDS = 3600;

/** The `'sha256-…'` source of the page's one inline <style>, so style-src needs no 'unsafe-inline'. */
function styleHash(html: string): string {
  const m = /<style>([\s\S]*?)<\/style>/.exec(html);
  if (m === null) throw new Error('page: index.html has no <style>');
  return `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`;
}

/** Origins the page's XHR goes to: storage as browsers see it (path-style, or bucket.host). */
export function storageOrigins(storage: GatewayConfig['storage']): string[] {
  const u = new URL(storage.publicEndpoint ?? storage.endpoint);
  if (storage.forcePathStyle) return [u.origin];
  return [u.origin, `${u.protocol}//${storage.bucket}.${u.host}`];
}

export function pageCsp(config: GatewayConfig): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${styleHash(HTML)}`,
    // Storage too: reviewers' previews are signed GETs of the frozen file.
    `img-src 'self' blob: ${storageOrigins(config.storage).join(' ')}`,
    `connect-src 'self' ${storageOrigins(config.storage).join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function mountPage(app: Hono<Env>, config: GatewayConfig, options: PageOptions = {}): void {
  const demoUsers = options.demoUsers ?? [];
  const jwt = config.auth.jwt;
  if (demoUsers.length > 0 && jwt?.secret === undefined)
    throw new Error('page: demo users need auth.jwt.secret (the dev secret) to mint their tokens');

  const common = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
  const htmlHeaders = {
    ...common,
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': pageCsp(config),
    'x-frame-options': 'DENY',
  };
  const pageConfig = {
    demo: demoUsers.length > 0,
    users: demoUsers,
    ...(options.webhookLog !== undefined && { webhooks: options.webhookLog }),
    routes: [...config.routes.values()].map((r) => ({
      name: r.name,
      types: r.types,
      maxSize: r.maxSize,
      maxSizeText: formatSize(r.maxSize),
      review: r.review,
      ...(r.image !== undefined && { image: r.image }),
    })),
  };

  app.get('/', (c) => c.body(HTML, 200, htmlHeaders));
  app.get('/ui/:module{[a-z]+\\.js}', (c) => {
    const script = MODULES.get(c.req.param('module'));
    if (script === undefined) throw new ChuteError('not_found', { message: 'No such file.' });
    return c.body(script, 200, { ...common, 'content-type': 'text/javascript; charset=utf-8' });
  });
  app.get('/ui/config.json', (c) => c.json(pageConfig, 200, common));
  // Browsers ask for it on every page; a 404 there only clutters consoles and logs.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'max-age=86400' }));

  if (demoUsers.length === 0) return;
  const secret = jwt!.secret!;
  // POST /dev/token {user} → {token, user, role, expiresAt}. JSON only: a cross-site form post
  // (text/plain, no preflight) is refused, and no CORS header lets another origin read a token.
  app.post('/dev/token', async (c) => {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? ''))
      throw new ChuteError('invalid_request', { message: 'Send JSON: {"user": "alice"}.' });
    const body = (await c.req.json().catch(() => null)) as { user?: unknown } | null;
    const user = demoUsers.find((u) => u.id === body?.user);
    if (user === undefined)
      throw new ChuteError('not_found', {
        message: `Not a demo user; try one of ${demoUsers.map((u) => u.id).join(', ')}.`,
      });
    const now = Date.now();
    const token = await mintToken({
      user: user.id,
      role: user.role,
      secret,
      ttl: DEMO_TOKEN_SECONDS,
      rolesClaim: jwt!.rolesClaim,
      now,
      ...(jwt!.issuer !== undefined && { issuer: jwt!.issuer }),
      ...(jwt!.audience !== undefined && { audience: jwt!.audience }),
    });
    const expiresAt = new Date(now + DEMO_TOKEN_SECONDS * 1000).toISOString();
    return c.json({ token, user: user.id, role: user.role, expiresAt }, 200, { 'cache-control': 'no-store' });
  });
}
