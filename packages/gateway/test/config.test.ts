import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashApiKey as sha256Hex } from '../src/auth/api-keys.ts';
import { ConfigError, parseConfig, redactConfig } from '../src/config/index.ts';
import { route } from '../src/rules/index.ts';

const SECRET = 'dev-secret-dev-secret-dev-secret-0123';
const KEY = `ck_${'a'.repeat(40)}`;

function minimal(): Record<string, unknown> {
  return {
    storage: {
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'chute',
      accessKeyId: 'chute',
      secretAccessKey: 'storage-secret',
    },
    auth: { jwt: { secret: SECRET } },
    routes: [{ name: 'logo', types: ['image/png'], maxSize: '20MB', review: true }],
  };
}

test('a minimal config gets every default', () => {
  const c = parseConfig(minimal());
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 3000 });
  assert.equal(c.storage.region, 'us-east-1');
  assert.equal(c.storage.forcePathStyle, true);
  assert.equal(c.database.url, 'sqlite:.chute/chute.db');
  assert.equal(c.auth.jwt?.rolesClaim, 'roles');
  assert.deepEqual(c.auth.apiKeys, []);
  assert.deepEqual(c.quotas, { pendingGrants: 20, bytesPerDay: 1_000_000_000, grantsPerMinute: 60 });
  assert.deepEqual(c.sweeper, { intervalMs: 60_000, graceMs: 300_000, claimTimeoutMs: 120_000 });
  assert.equal(c.routes.get('logo')?.maxSize, 20_000_000);
  assert.equal(c.routes.get('logo')?.review, true);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.storage));
});

test('routes may be builders (a TS config) and specs (JSON) together', () => {
  const c = parseConfig({
    ...minimal(),
    routes: [route('avatar').types('image/*').maxSize('2MB').method('put'), ...(minimal().routes as [])],
  });
  assert.deepEqual([...c.routes.keys()], ['avatar', 'logo']);
  assert.equal(c.routes.get('avatar')?.method, 'put');
});

// biome-ignore lint/suspicious/noExplicitAny: tests poke arbitrary (invalid) shapes into the config
function refuses(patch: (c: Record<string, any>) => void, pattern: RegExp) {
  const c = minimal();
  patch(c);
  assert.throws(
    () => parseConfig(c),
    (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
  );
}

test('an unknown key (misspelt "maxsize" in storage) is refused', () => {
  refuses((c) => {
    c.storage.maxsize = '1GB';
  }, /maxsize/);
  refuses((c) => {
    c.extra = 1;
  }, /extra/);
});

test('a route spec with a misspelt key ("maxsize") is refused, not read as "no limit"', () => {
  refuses((c) => {
    c.routes = [{ name: 'a', types: ['image/png'], maxSize: '1MB', maxsize: '1GB' }];
  }, /maxsize/);
});

test('bytesPerDay as a bare number (1000000) is refused; "1GiB" accepted', () => {
  refuses((c) => {
    c.quotas = { bytesPerDay: 1_000_000 };
  }, /bytesPerDay/);
  assert.equal(parseConfig({ ...minimal(), quotas: { bytesPerDay: '1GiB' } }).quotas.bytesPerDay, 2 ** 30);
  refuses((c) => {
    c.quotas = { bytesPerDay: '1 gigabyte' };
  }, /invalid size/);
});

test('a route error from the builder (lifetime "30s") is reported as a config error', () => {
  refuses((c) => {
    c.routes = [{ name: 'a', types: ['image/png'], maxSize: '1MB', lifetime: '30s' }];
  }, /lifetime/);
  refuses((c) => {
    c.routes = [];
  }, /at least one route/);
  refuses((c) => {
    c.routes = [
      { name: 'a', types: ['image/png'], maxSize: '1MB' },
      { name: 'a', types: ['image/png'], maxSize: '1MB' },
    ];
  }, /twice/);
});

test('auth: none at all is refused (no anonymous grants); secret and jwksUrl together refused', () => {
  refuses((c) => {
    c.auth = {};
  }, /anonymous/);
  refuses((c) => {
    c.auth = { jwt: { secret: SECRET, jwksUrl: 'https://idp.example/jwks' } };
  }, /exactly one/);
  refuses((c) => {
    c.auth = { jwt: { secret: 'short' } };
  }, /32/);
});

test('API keys: a plaintext key is stored only as its SHA-256; ids unique; a bad key format refused', () => {
  const c = parseConfig({
    ...minimal(),
    auth: { apiKeys: [{ id: 'backend', key: KEY, role: 'admin' }] },
  });
  assert.deepEqual(c.auth.apiKeys, [
    { id: 'backend', role: 'admin', user: 'backend', secretHash: sha256Hex(KEY) },
  ]);
  assert.ok(!JSON.stringify(c).includes(KEY));
  refuses((c) => {
    c.auth = { apiKeys: [{ id: 'x', key: 'ck_short', role: 'admin' }] };
  }, /ck_/);
  refuses((c) => {
    c.auth = {
      apiKeys: [
        { id: 'x', key: KEY, role: 'admin' },
        { id: 'x', secretHash: sha256Hex('y'), role: 'admin' },
      ],
    };
  }, /unique/);
});

test('database url must be sqlite:PATH or postgres://', () => {
  refuses((c) => {
    c.database = { url: 'mysql://x' };
  }, /sqlite/);
  assert.equal(
    parseConfig({ ...minimal(), database: { url: 'postgres://u:p@h/db' } }).database.url,
    'postgres://u:p@h/db',
  );
});

test('redactConfig hides the storage secret, JWT secret, API key hashes and DB password', () => {
  const c = parseConfig({
    ...minimal(),
    database: { url: 'postgres://chute:hunter2@db:5432/chute' },
    auth: { jwt: { secret: SECRET }, apiKeys: [{ id: 'backend', key: KEY, role: 'admin' }] },
  });
  const text = JSON.stringify(redactConfig(c));
  for (const secret of ['storage-secret', SECRET, sha256Hex(KEY), 'hunter2']) {
    assert.ok(!text.includes(secret), `leaked ${secret}`);
  }
  assert.match(text, /"logo"/, 'routes are logged as plain objects');
  assert.match(text, /chute:%5Bredacted%5D@db|chute:\[redacted\]@db/);
});

test('a JSON route with review options and a publish block; their bad inputs name the route', () => {
  const c = parseConfig({
    ...minimal(),
    routes: [
      {
        name: 'logo',
        types: ['image/png'],
        maxSize: '5MB',
        review: { reasons: ['blurry'], retention: '2d' },
        publish: { key: 'logos/{userId}/current', keepOne: true },
      },
    ],
  });
  const logo = c.routes.get('logo')!;
  assert.deepEqual(logo.rejectReasons, ['blurry']);
  assert.equal(logo.rejectedRetentionMs, 2 * 86_400_000);
  assert.deepEqual(logo.publish, { key: 'logos/{userId}/current', keepOne: true });
  refuses((x) => (x.routes[0].review = { reasons: ['blurry'], keep: '1d' }), /keep/);
  refuses((x) => (x.routes[0].publish = { key: 'logos/{userId}/current' }), /route "logo": .*set keepOne/);
  refuses((x) => (x.routes[0].publish = { key: 'x/{userId}/{uploadId}', public: true }), /public/);
});
