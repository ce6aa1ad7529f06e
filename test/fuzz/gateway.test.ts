// Property tests of the gateway's API through hono's app.request() (no socket), against the
// embedded store in-process and SQLite: JSON bodies, query strings, path ids and credentials.
// Properties: never a 5xx (storage and database are up); every error is the one JSON shape with a
// code from the registry whose status is the response's; a grant that is issued is for the route,
// type and size asked, under a key of the caller's own, whatever the file name.
//
// Bad inputs tried: bodies that are not JSON, truncated, deeply nested, not objects, with unknown
// keys and `__proto__`; each field of the wrong type, empty, too long, negative/fractional/huge
// sizes, NaN-ish strings, file names with CR/LF, quotes, NUL, `../`, `${filename}`, RTL marks,
// 10 kB; content types with parameters and CRLF; wrong Content-Type headers; list queries with
// unknown states, bad cursors, limits of 0/101/-1/1e2/x, repeated and unknown parameters; ids with
// `..`, NUL, %-escapes, 1 kB; tokens that are not JWTs, alg:none, HS256 with another secret,
// expired, without sub or exp, with a sub that is not a user id; API keys of every length.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GATEWAY_CODES } from '@chute/errors';
import {
  createGateway,
  ENDPOINTS,
  type Gateway,
  mintToken,
  parseConfig,
  route,
  silentLogger,
} from '@chute/gateway';
import fc from 'fast-check';
import { ROUTES } from '../../packages/gateway/test/helpers/e2e.ts';
import { createStore, type Store } from '../../packages/store/src/index.ts';
import { CREDS, REGION } from './http.ts';
import { checkAsync } from './runs.ts';

const SECRET = 'fuzz-secret-fuzz-secret-fuzz-secret-0000';
const BUCKET = 'gw-fuzz';
let dir: string;
let store: Store;
let gw: Gateway;
const tokens: Record<string, string> = {};

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'chute-fuzz-gw-'));
  store = await createStore(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir: path.join(dir, 's3'),
      region: REGION,
      users: [{ ...CREDS }],
      buckets: [BUCKET],
    },
    { log: () => {} },
  );
  const { url } = await store.listen();
  gw = await createGateway(
    parseConfig({
      storage: { endpoint: url, region: REGION, bucket: BUCKET, ...CREDS },
      database: { url: `sqlite:${path.join(dir, 'chute.db')}` },
      auth: { jwt: { secret: SECRET } },
      quotas: { pendingGrants: 1_000_000, bytesPerDay: '1000TB', grantsPerMinute: 1_000_000 },
      routes: [...ROUTES, route('big').types('application/pdf').maxSize('10GB').multipart()],
    }),
    { logger: silentLogger(), sweep: false, processMetrics: false },
  );
  tokens.alice = await mintToken({ user: 'alice', secret: SECRET });
  tokens.bob = await mintToken({ user: 'bob', secret: SECRET });
  tokens.admin = await mintToken({ user: 'root', role: 'admin', secret: SECRET });
  tokens.rita = await mintToken({ user: 'rita', role: 'reviewer', secret: SECRET });
});
after(async () => {
  await gw.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Never a 5xx; an error is `{error: {code, message, requestId}}` with the registry's status. */
async function assertAnswer(res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  assert.ok(res.status < 500, `${what}: ${res.status} ${text}`);
  assert.ok(res.headers.get('x-request-id'), `${what}: no x-request-id`);
  if (res.status < 400) return res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  const body = JSON.parse(text) as {
    error: { code: keyof typeof GATEWAY_CODES; message: string; requestId: string };
  };
  const entry = GATEWAY_CODES[body.error.code];
  assert.ok(entry, `${what}: unknown code ${body.error.code}`);
  assert.equal(entry.status, res.status, `${what}: ${body.error.code} answered ${res.status}`);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(body.error.requestId, res.headers.get('x-request-id'));
  return body;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const nasty = fc.constantFrom(
  '',
  ' ',
  'a.png',
  'evil\r\nSet-Cookie: x=1.png',
  'a"b\'.png',
  'nul\u0000.png',
  '../../etc/passwd',
  '..\\..\\boot.ini',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally.
  '${filename}',
  '\u202Egnp.exe',
  '😀.png',
  'x'.repeat(255),
  'x'.repeat(256),
  'x'.repeat(10_000),
);
const text = fc.oneof(nasty, fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
const jsonJunk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.constantFrom(-1, 0, 1, 1.5, 2 ** 53, 1e308, -0),
  fc.constant([]),
  fc.constant({}),
  text,
);
const grantBody = fc.record(
  {
    route: fc.oneof(
      fc.constantFrom('logo', 'avatar', 'doc', 'LOGO', 'nope', '__proto__', 'constructor'),
      jsonJunk,
    ),
    filename: fc.oneof(nasty, jsonJunk),
    contentType: fc.oneof(
      fc.constantFrom(
        'image/png',
        'image/jpeg',
        'text/plain',
        'application/pdf',
        'image/png; charset=x',
        'IMAGE/PNG',
        'image/png\r\nx: y',
        'text/html',
        '*/*',
        'image/*',
      ),
      jsonJunk,
    ),
    size: fc.oneof(
      fc.integer({ min: 0, max: 30_000_000 }),
      fc.constantFrom(0, 1, 999_999, 1_000_000, 1_000_001, 20_000_000, 5 * 1024 ** 3 + 1),
      jsonJunk,
    ),
    checksum: fc.oneof(fc.constantFrom('0'.repeat(64), `${'A'.repeat(43)}=`, 'xyz'), jsonJunk),
    method: fc.oneof(fc.constantFrom('post', 'put', 'PUT', 'multipart'), jsonJunk),
    extra: jsonJunk,
  },
  { requiredKeys: [] },
);
/** A valid request for one of the routes with a few of its fields replaced: reaches the grant. */
const VALID = [
  { route: 'logo', filename: 'logo.png', contentType: 'image/png', size: 1234 },
  { route: 'avatar', filename: 'me.jpg', contentType: 'image/jpeg', size: 999_999 },
  { route: 'doc', filename: 'a.txt', contentType: 'text/plain', size: 1, method: 'post' },
];
const nearValid = fc
  .tuple(
    fc.constantFrom(...VALID),
    grantBody,
    fc.uniqueArray(fc.constantFrom('filename', 'contentType', 'size', 'checksum', 'method'), {
      maxLength: 2,
    }),
  )
  .map(([base, junk, replace]) => {
    const out: Record<string, unknown> = { ...base };
    for (const k of replace) if (k in junk) out[k] = junk[k as keyof typeof junk];
    return out;
  });
const rawBody = fc.oneof(
  { weight: 4, arbitrary: nearValid.map((b) => JSON.stringify(b)) },
  { weight: 4, arbitrary: grantBody.map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: grantBody.map((b) => JSON.stringify(b).replace('"extra"', '"__proto__"')) },
  { weight: 1, arbitrary: grantBody.chain((b) => fc.nat().map((n) => JSON.stringify(b).slice(0, n))) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'null',
      '[]',
      '"x"',
      '1',
      '{',
      '[[[[[[[[[[',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      '{"route":"logo"}{"a":1}',
    ),
  },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
);

const forgedTokens = fc.oneof(
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    'bearer x',
    'Basic YWxpY2U6eA==',
    'Bearer a.b.c',
    'Bearer ....',
    `Bearer ${'a'.repeat(10_000)}`,
  ),
  fc
    .record({
      alg: fc.constantFrom('none', 'HS256', 'HS512', 'RS256', 'None', ''),
      sub: fc.oneof(
        fc.constantFrom('alice', 'bob', 'root', '', '../x', 'a/b', 'a b', 'x'.repeat(200)),
        jsonJunk,
      ),
      exp: fc.oneof(fc.constantFrom(0, 1, 2_000_000_000, 9e15), jsonJunk),
      roles: fc.oneof(fc.constantFrom(['admin'], 'admin', ['superuser'], []), jsonJunk),
      sig: fc.constantFrom('', 'AAAA', 'x'),
    })
    .map(
      (t) =>
        `Bearer ${b64url(JSON.stringify({ alg: t.alg, typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: t.sub, exp: t.exp, roles: t.roles }))}.${t.sig}`,
    ),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
];

describe('fuzz: gateway JSON bodies, queries, ids and credentials', () => {
  test('POST /v1/grants with any body: a grant as asked, or a registry error', async (t) => {
    let granted = 0;
    const ran = await checkAsync(
      fc.asyncProperty(
        rawBody,
        fc.constantFrom(...CONTENT_TYPES),
        fc.constantFrom('alice', 'bob'),
        async (body, ct, user) => {
          const headers: Record<string, string> = { authorization: `Bearer ${tokens[user]}` };
          if (ct !== '') headers['content-type'] = ct;
          const res = await gw.app.request('/v1/grants', { method: 'POST', headers, body });
          const out = await assertAnswer(res, `grant ${body.slice(0, 200)}`);
          if (res.status !== 201) return;
          granted++;
          const asked = JSON.parse(body) as { route: string; contentType: string; size: number };
          const grant = out as {
            key: string;
            url: string;
            fields?: Record<string, string>;
            headers?: Record<string, string>;
          };
          // The key is the server's: incoming/{user}/{id}, nothing of the file name in it.
          assert.match(grant.key, new RegExp(`^incoming/${user}/up_[0-9A-Za-z]{22}$`));
          const signed = grant.fields ?? grant.headers ?? {};
          const type = signed['Content-Type'] ?? signed['content-type'];
          assert.equal(type, asked.contentType);
          for (const v of Object.values(signed))
            assert.ok(!/[\r\n]/.test(v), `CR/LF in a signed value: ${v}`);
        },
      ),
      { io: true, scale: 4 },
    );
    t.diagnostic(`${ran.runs} runs (${granted} granted), seed ${ran.seed}`);
  });

  test('GET /v1/uploads with any query: a page or invalid_request', async (t) => {
    const param = fc.tuple(
      fc.constantFrom('state', 'cursor', 'limit', 'other', 'State', '__proto__'),
      fc.oneof(
        fc.constantFrom(
          'granted',
          'verified,rejected',
          'nope',
          ',',
          '',
          '0',
          '101',
          '-1',
          '1e2',
          '50',
          'x',
          'eyJ9',
          '%00',
          '%zz',
          'a'.repeat(600),
        ),
        fc.string({ maxLength: 12 }).map(encodeURIComponent),
      ),
    );
    const ran = await checkAsync(
      fc.asyncProperty(
        fc.array(param, { maxLength: 4 }),
        fc.constantFrom('alice', 'admin'),
        async (params, user) => {
          const qs = params.map(([k, v]) => `${k}=${v}`).join('&');
          const res = await gw.app.request(`/v1/uploads?${qs}`, {
            headers: { authorization: `Bearer ${tokens[user]}` },
          });
          await assertAnswer(res, `list ?${qs}`);
        },
      ),
      { io: true, scale: 4 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  test('any id on every id route: the upload, or not_found', async (t) => {
    // One real upload of alice's, so ids of other users' uploads are tried too.
    const own = await gw.app.request('/v1/grants', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'doc', filename: 'a.txt', contentType: 'text/plain', size: 3 }),
    });
    const realId = ((await own.json()) as { id: string }).id;
    const id = fc.oneof(
      fc.constantFrom(
        realId,
        `${realId}x`,
        realId.toLowerCase(),
        'up_',
        '..',
        '%2e%2e',
        '%00',
        'up_%00',
        '%zz',
        'a'.repeat(1024),
        '%F0%9F%98%80',
      ),
      fc.string({ maxLength: 30 }).map(encodeURIComponent),
    );
    const ran = await checkAsync(
      fc.asyncProperty(
        id,
        fc.constantFrom('bob', 'alice', 'admin'),
        fc.constantFrom('GET /v1/uploads/:id', 'POST /v1/uploads/:id/complete', 'GET /v1/files/:id/download'),
        async (raw, user, route) => {
          const [method, p] = route.split(' ') as [string, string];
          const res = await gw.app.request(p.replace(':id', raw), {
            method,
            headers: { authorization: `Bearer ${tokens[user]}` },
          });
          const out = await assertAnswer(res, `${route} ${raw}`);
          // Someone else's upload is not found, never shown (404-not-403).
          if (raw === realId && user === 'bob')
            assert.equal((out as { error: { code: string } }).error.code, 'not_found');
        },
      ),
      { io: true, scale: 4 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  test('forged credentials: unauthenticated, never a grant', async (t) => {
    const ran = await checkAsync(
      fc.asyncProperty(
        forgedTokens,
        fc.option(fc.oneof(fc.constantFrom('ck_', `ck_${'a'.repeat(32)}`, 'x'), text)),
        async (authorization, apiKey) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (authorization !== '') headers.authorization = authorization;
          if (apiKey !== null) headers['x-api-key'] = apiKey.replace(/[\r\n\0]/g, '');
          let res: Response;
          try {
            res = await gw.app.request('/v1/grants', {
              method: 'POST',
              headers,
              body: JSON.stringify({ route: 'doc', filename: 'a.txt', contentType: 'text/plain', size: 3 }),
            });
          } catch (e) {
            // A header value the Fetch API itself refuses never reaches a server.
            if (e instanceof TypeError) return;
            throw e;
          }
          const out = await assertAnswer(res, `grant with ${authorization.slice(0, 200)}`);
          assert.ok(
            res.status === 401 || res.status === 400,
            `forged credentials answered ${res.status}: ${JSON.stringify(out)}`,
          );
        },
      ),
      { io: true, scale: 4 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  test('every endpoint with any id, query and body: a documented answer or a registry error, never a 5xx', async (t) => {
    // Uploads of alice's in several states, so ids reach the handlers' real paths.
    const ids: string[] = [];
    for (const body of [
      { route: 'doc', filename: 'a.txt', contentType: 'text/plain', size: 3 },
      { route: 'logo', filename: 'a.png', contentType: 'image/png', size: 100 },
      { route: 'big', filename: 'a.pdf', contentType: 'application/pdf', size: 6 * 1024 ** 3 },
      { route: 'avatar', filename: 'a.png', contentType: 'image/png', size: 10 },
    ]) {
      const res = await gw.app.request('/v1/grants', {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.clone().text());
      ids.push(((await res.json()) as { id: string }).id);
    }
    // One of them withdrawn, one completed with nothing uploaded (409): more states to meet.
    await gw.app.request(`/v1/uploads/${ids[3]}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tokens.alice}` },
    });
    const idArb = fc.oneof(
      fc.constantFrom(...ids, 'up_0000000000000000000000', '..', '%00', 'x'.repeat(300)),
      fc.string({ maxLength: 24 }).map(encodeURIComponent),
    );
    const QUERY_KEYS = ['from', 'count', 'state', 'cursor', 'limit', 'route', 'x'];
    const query = fc.array(
      fc.tuple(
        fc.constantFrom(...QUERY_KEYS),
        fc.oneof(
          fc.constantFrom(
            '0',
            '1',
            '2',
            '-1',
            '1000',
            '1001',
            '1e3',
            '',
            'x',
            'granted',
            'pending_review',
            'logo',
          ),
          text.map(encodeURIComponent),
        ),
      ),
      { maxLength: 3 },
    );
    const BODY_KEYS = [
      'decision',
      'reason',
      'note',
      'parts',
      'partNumber',
      'etag',
      'number',
      'approve',
      'reject',
      'route',
      'size',
      'state',
    ];
    const jsonBody = fc.oneof(
      fc.constant(undefined),
      fc
        .dictionary(
          fc.constantFrom(...BODY_KEYS),
          fc.oneof(
            jsonJunk,
            fc.constantFrom('approve', 'reject', 'approved', 'rejected', 'type_mismatch'),
            fc.array(fc.record({ number: fc.integer({ min: -1, max: 3 }), etag: text }), { maxLength: 3 }),
          ),
          { maxKeys: 4 },
        )
        .map((b) => JSON.stringify(b)),
      fc.constantFrom('', '{', 'null', '[]', '"x"'),
    );
    const statuses = new Map<string, number>();
    const ran = await checkAsync(
      fc.asyncProperty(
        fc.constantFrom(
          ...ENDPOINTS.map((e) => ({ method: e.method, path: e.path, documented: Object.keys(e.responses) })),
        ),
        idArb,
        query,
        jsonBody,
        fc.constantFrom('alice', 'bob', 'rita', 'admin'),
        async (e, id, q, sent, user) => {
          // A GET carries no body (the Fetch API refuses one).
          const body = e.method === 'get' ? undefined : sent;
          const p =
            e.path.replace('{id}', id) +
            (q.length === 0 ? '' : `?${q.map(([k, v]) => `${k}=${v}`).join('&')}`);
          const headers: Record<string, string> = { authorization: `Bearer ${tokens[user]}` };
          if (body !== undefined) headers['content-type'] = 'application/json';
          const res = await gw.app.request(p, {
            method: e.method.toUpperCase(),
            headers,
            ...(body !== undefined && { body }),
          });
          const key = `${e.method} ${e.path} ${res.status}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          await assertAnswer(res, `${e.method.toUpperCase()} ${p}`);
          // What the API answers is what /v1/openapi.json says it answers — unless the id is a dot
          // segment, which URL parsing resolves away (`/v1/uploads/./withdraw` is another path).
          if (!/^(\.|%2e){1,2}$/i.test(id)) {
            assert.ok(e.documented.includes(String(res.status)), `${key}: not in the OpenAPI document`);
          }
        },
      ),
      { io: true, scale: 8 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}; ${[...statuses.keys()].sort().join('; ')}`);
  });
});
