// The API through the app, without a socket (hono's app.request): routing, errors, auth,
// grants' signatures (pure: no storage call is made to sign), OpenAPI kept in sync with routes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newApiKey } from '../src/auth/api-keys.ts';
import { mintToken } from '../src/auth/mint.ts';
import { devConfig } from '../src/config/dev.ts';
import { parseConfig } from '../src/config/parse.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { ENDPOINTS } from '../src/http/endpoints.ts';
import { honoPath } from '../src/http/openapi.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { ROUTES } from './helpers/e2e.ts';
import { sqliteEngine } from './helpers/engines.ts';

const SECRET = 'api-test-secret-api-test-secret-0000000';
const engine = sqliteEngine();
const key = newApiKey();
let gw: Gateway;
let token: string;

before(async () => {
  const config = parseConfig({
    // Nothing listens on port 9: a call to storage fails fast (connection refused).
    storage: {
      endpoint: 'http://127.0.0.1:9',
      publicEndpoint: 'https://uploads.example.com',
      bucket: 'bucket1',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
    },
    database: { url: engine.url },
    cors: { origins: ['https://app.example.com'] },
    auth: {
      jwt: { secret: SECRET },
      apiKeys: [{ id: 'backend', role: 'admin', secretHash: key.secretHash }],
    },
    routes: ROUTES,
  });
  gw = await createGateway(config, {
    logger: silentLogger(),
    sweep: false,
    processMetrics: false,
    storageOptions: { attempts: 2, backoffMs: 1 },
  });
  token = await mintToken({ user: 'alice', secret: SECRET });
});
after(async () => {
  await gw.close();
  await engine.cleanup();
});

const grantBody = { route: 'logo', filename: 'logo.png', contentType: 'image/png', size: 1234 };
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  gw.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('openapi', () => {
  test('every /v1 route the app serves is in /v1/openapi.json, and every documented operation is served', async () => {
    const doc = (await (await gw.app.request('/v1/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, '3.1.0');
    const served = new Set(
      gw.app.routes
        .filter((r) => r.path.startsWith('/v1/') && r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m} ${honoPath(path)}`),
      ),
    );
    assert.deepEqual([...served].sort(), [...documented].sort());
    assert.equal(served.size, ENDPOINTS.length);
    for (const name of ['GrantRequest', 'Grant', 'Upload', 'UploadList', 'Error']) {
      assert.ok(doc.components.schemas[name], `components.schemas.${name}`);
    }
    // Every $ref points at a component that exists.
    for (const ref of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      assert.ok(doc.components.schemas[ref[1]!], `dangling $ref ${ref[1]}`);
    }
  });
});

describe('errors and request ids', () => {
  test('unknown path → 404 JSON not_found with a generated x-request-id', async () => {
    const res = await gw.app.request('/v1/nope');
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    assert.equal(body.error.code, 'not_found');
    assert.ok(body.error.requestId.length >= 16);
    assert.equal(res.headers.get('x-request-id'), body.error.requestId);
  });

  test('GET /v1/grants (wrong method on a known path) → 405 method_not_allowed with Allow: POST', async () => {
    const res = await gw.app.request('/v1/grants');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
  });

  test("a client's plain x-request-id is kept; one with spaces or newlines is replaced", async () => {
    const kept = await gw.app.request('/healthz', { headers: { 'x-request-id': 'client-req-0001' } });
    assert.equal(kept.headers.get('x-request-id'), 'client-req-0001');
    const replaced = await gw.app.request('/healthz', { headers: { 'x-request-id': 'has space inside' } });
    assert.notEqual(replaced.headers.get('x-request-id'), 'has space inside');
  });

  test('body that is not JSON (text/plain) → 400 invalid_request', async () => {
    const res = await gw.app.request('/v1/grants', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(res.status, 400);
  });

  test('a 20 KB JSON body → 400 before parsing', async () => {
    const res = await post(
      '/v1/grants',
      { ...grantBody, filename: 'x'.repeat(20_000) },
      { authorization: `Bearer ${token}` },
    );
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /too large/);
  });

  test('storage unreachable at complete → 503 unavailable, generic message, the upload can be completed later', async () => {
    const res = await post('/v1/grants', grantBody, { authorization: `Bearer ${token}` });
    const { id } = (await res.json()) as { id: string };
    const done = await gw.app.request(`/v1/uploads/${id}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(done.status, 503);
    const body = (await done.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unavailable');
    assert.doesNotMatch(body.error.message, /127\.0\.0\.1|ECONNREFUSED|fetch/);
    assert.equal(done.headers.get('retry-after'), '2');
    // The claim was handed back: still granted, so a retry will do the work.
    assert.equal((await gw.services.repo.uploads.get(id))?.state, 'granted');
  });
});

describe('grants (signing only)', () => {
  test('POST grant: form for the public endpoint, every field covered by an exact condition', async () => {
    const res = await post('/v1/grants', grantBody, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const g = (await res.json()) as {
      id: string;
      url: string;
      key: string;
      fields: Record<string, string>;
      expiresAt: string;
      serverTime: string;
    };
    assert.equal(g.url, 'https://uploads.example.com/bucket1');
    assert.equal(g.key, `incoming/alice/${g.id}`);
    assert.equal(Date.parse(g.expiresAt) - Date.parse(g.serverTime), 10 * 60_000);
    const policy = JSON.parse(Buffer.from(g.fields['Policy']!, 'base64').toString()) as {
      conditions: unknown[];
    };
    const text = JSON.stringify(policy.conditions);
    assert.ok(text.includes('["content-length-range",1234,1234]'));
    assert.ok(text.includes(`["eq","$key","${g.key}"]`));
    assert.ok(text.includes('["eq","$Content-Type","image/png"]'));
    assert.ok(text.includes(`["eq","$x-amz-meta-user-id","alice"]`));
    assert.equal(g.fields['success_action_status'], '201');
  });

  test('PUT grant: URL signed for the public host with content-type, content-length and metadata', async () => {
    const res = await post(
      '/v1/grants',
      { ...grantBody, method: 'put' },
      { authorization: `Bearer ${token}` },
    );
    const g = (await res.json()) as { url: string; headers: Record<string, string> };
    const url = new URL(g.url);
    assert.equal(url.host, 'uploads.example.com');
    assert.equal(
      url.searchParams.get('X-Amz-SignedHeaders'),
      'content-length;content-type;host;x-amz-meta-upload-id;x-amz-meta-user-id',
    );
    assert.equal(g.headers['content-length'], '1234');
  });

  test('API key (X-Api-Key) authenticates server-to-server grants; a wrong key is 401', async () => {
    const ok = await post('/v1/grants', grantBody, { 'x-api-key': key.key });
    assert.equal(ok.status, 201);
    assert.match(((await ok.json()) as { key: string }).key, /^incoming\/backend\//);
    // One character changed (a random key ends in 'X' one time in 62: then it becomes 'Y').
    const wrong = `${key.key.slice(0, -1)}${key.key.endsWith('X') ? 'Y' : 'X'}`;
    const bad = await post('/v1/grants', grantBody, { 'x-api-key': wrong });
    assert.equal(bad.status, 401);
  });

  test('list with an unknown state → 400 naming it; a foreign cursor → 400', async () => {
    const bad = await gw.app.request('/v1/uploads?state=granted,bogus', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /bogus/);
    const cursor = await gw.app.request('/v1/uploads?cursor=xyz', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(cursor.status, 400);
  });

  test('list pages with nextCursor, newest first, only the caller’s', async () => {
    const bob = await mintToken({ user: 'bob-lister', secret: SECRET });
    for (let i = 0; i < 3; i++) await post('/v1/grants', grantBody, { authorization: `Bearer ${bob}` });
    const p1 = (await (
      await gw.app.request('/v1/uploads?limit=2', { headers: { authorization: `Bearer ${bob}` } })
    ).json()) as {
      items: { userId: string }[];
      nextCursor?: string;
    };
    assert.equal(p1.items.length, 2);
    assert.ok(p1.nextCursor);
    const p2 = (await (
      await gw.app.request(`/v1/uploads?limit=2&cursor=${p1.nextCursor}`, {
        headers: { authorization: `Bearer ${bob}` },
      })
    ).json()) as { items: { userId: string }[]; nextCursor?: string };
    assert.equal(p2.items.length, 1);
    assert.equal(p2.nextCursor, undefined);
    assert.ok([...p1.items, ...p2.items].every((u) => u.userId === 'bob-lister'));
  });
});

describe('telemetry', () => {
  test('/healthz answers 200 when the database does; /metrics has grant counters and latency histograms', async () => {
    assert.equal((await gw.app.request('/healthz')).status, 200);
    const text = await (await gw.app.request('/metrics')).text();
    assert.match(text, /chute_grants_total\{route="logo",method="post"\} \d+/);
    assert.match(text, /chute_http_request_duration_seconds_bucket\{.*route="\/v1\/grants"/);
  });
});

describe('devConfig', () => {
  test('chute dev config: logo route (PNG/JPEG/WebP/GIF, 20 MB, 4096 px, review), SQLite under the data dir', () => {
    const c = devConfig({
      storage: { endpoint: 'http://127.0.0.1:9000', bucket: 'chute', accessKeyId: 'k', secretAccessKey: 's' },
      dataDir: '/tmp/x/.chute',
      jwtSecret: 'dev-secret-dev-secret-dev-secret-000000',
    });
    const logo = c.routes.get('logo')!;
    assert.deepEqual(
      [logo.types, logo.maxSize, logo.image, logo.review, c.database.url, c.listen.port],
      [
        ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
        20_000_000,
        { maxWidth: 4096, maxHeight: 4096 },
        true,
        'sqlite:/tmp/x/.chute/chute.db',
        3000,
      ],
    );
  });
});

describe('CORS for web apps calling the API from the browser', () => {
  test('a preflight from a configured origin is answered with the methods and headers it may use', async () => {
    const res = await gw.app.request('/v1/grants', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.equal(res.headers.get('access-control-max-age'), '600');
  });

  test('another origin gets no Access-Control-Allow-Origin (bad input: https://evil.example)', async () => {
    const res = await gw.app.request('/v1/grants', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('a grant requested from the configured origin exposes x-request-id to the page', async () => {
    const res = await post('/v1/grants', grantBody, {
      authorization: `Bearer ${token}`,
      origin: 'https://app.example.com',
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
  });

  test('config refuses an origin with a path or no scheme (bad input: app.example.com, https://a.example/x)', () => {
    for (const origin of ['app.example.com', 'https://a.example/x']) {
      assert.throws(
        () =>
          parseConfig({
            storage: {
              endpoint: 'http://127.0.0.1:9',
              bucket: 'bucket1',
              accessKeyId: 'a',
              secretAccessKey: 'b',
            },
            auth: { jwt: { secret: SECRET } },
            cors: { origins: [origin] },
            routes: ROUTES,
          }),
        /origin/,
      );
    }
  });
});
