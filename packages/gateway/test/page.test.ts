// The upload page's server side, through the app: the page under a strict CSP, its config, and the
// dev-only token endpoint (present with demo users, absent otherwise). The page itself runs in
// Chromium in test/e2e/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_USERS } from '../src/config/dev.ts';
import { parseConfig } from '../src/config/parse.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { ROUTES } from './helpers/e2e.ts';
import { sqliteEngine } from './helpers/engines.ts';

const SECRET = 'page-test-secret-page-test-secret-00000';
const engine = sqliteEngine();
let dev: Gateway;
let prod: Gateway;

const config = (forcePathStyle: boolean) =>
  parseConfig({
    storage: {
      endpoint: 'http://127.0.0.1:9',
      publicEndpoint: 'https://uploads.example.com',
      bucket: 'bucket1',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      forcePathStyle,
    },
    database: { url: engine.url },
    auth: { jwt: { secret: SECRET } },
    routes: ROUTES,
  });
const options = { logger: silentLogger(), sweep: false, processMetrics: false } as const;

before(async () => {
  dev = await createGateway(config(true), { ...options, page: { demoUsers: DEMO_USERS } });
  prod = await createGateway(config(false), options);
});
after(async () => {
  await dev.close();
  await prod.close();
  await engine.cleanup();
});

const tokenRequest = (gw: Gateway, body: string, type = 'application/json') =>
  gw.app.request('/dev/token', { method: 'POST', headers: { 'content-type': type }, body });

describe('the page', () => {
  test('/ is HTML under a CSP with no unsafe-*, connect-src the gateway and storage as browsers see it', async () => {
    const res = await dev.app.request('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.match(csp, /connect-src 'self' https:\/\/uploads\.example\.com;/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    // Virtual-hosted storage: the browser posts to bucket.host.
    const vh = (await prod.app.request('/')).headers.get('content-security-policy') ?? '';
    assert.match(
      vh,
      /connect-src 'self' https:\/\/uploads\.example\.com https:\/\/bucket1\.uploads\.example\.com;/,
    );
    const js = await dev.app.request('/ui/page.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
  });

  test('/ui/config.json: the routes; demo users only in dev', async () => {
    const d = (await (await dev.app.request('/ui/config.json')).json()) as {
      demo: boolean;
      users: unknown[];
      routes: { name: string; maxSize: number }[];
    };
    assert.equal(d.demo, true);
    assert.deepEqual(d.users, DEMO_USERS);
    assert.deepEqual(
      d.routes.map((r) => r.name),
      ROUTES.map((r) => r.build().name),
    );
    const p = (await (await prod.app.request('/ui/config.json')).json()) as {
      demo: boolean;
      users: unknown[];
    };
    assert.deepEqual([p.demo, p.users], [false, []]);
  });

  test('POST /dev/token mints a token the API accepts, for demo users only', async () => {
    const res = await tokenRequest(dev, '{"user":"rita"}');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const body = (await res.json()) as { token: string; role: string; user: string };
    assert.deepEqual([body.user, body.role], ['rita', 'reviewer']);
    const list = await dev.app.request('/v1/uploads', { headers: { authorization: `Bearer ${body.token}` } });
    assert.equal(list.status, 200);
    const other = await tokenRequest(dev, '{"user":"mallory"}');
    assert.equal(other.status, 404);
    assert.match(((await other.json()) as { error: { message: string } }).error.message, /alice, bob/);
    // A cross-site form can send text/plain without a preflight: refused.
    assert.equal((await tokenRequest(dev, '{"user":"alice"}', 'text/plain')).status, 400);
  });

  test('without demo users there is no /dev/token', async () => {
    const res = await tokenRequest(prod, '{"user":"alice"}');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
  });

  test('page: false leaves / unserved', async () => {
    const gw = await createGateway(config(true), { ...options, page: false });
    try {
      assert.equal((await gw.app.request('/')).status, 404);
    } finally {
      await gw.close();
    }
  });
});
