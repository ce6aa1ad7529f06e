import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ChuteError, type GatewayErrorCode } from '@chute/errors';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import {
  createAuthenticator,
  hasRole,
  mintToken,
  newApiKey,
  type Principal,
  readClaim,
  requireRole,
  roleFromClaim,
} from '../src/auth/index.ts';
import { parseConfig } from '../src/config/index.ts';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
const SECRET = 'test-secret-test-secret-test-secret!';
const KEY = newApiKey();

function authFor(auth: Record<string, unknown>) {
  const config = parseConfig({
    storage: { endpoint: 'http://127.0.0.1:9000', bucket: 'chute', accessKeyId: 'a', secretAccessKey: 'b' },
    auth,
    routes: [{ name: 'logo', types: ['image/png'], maxSize: '1MB' }],
  });
  return createAuthenticator(config.auth);
}

const hs = authFor({
  jwt: { secret: SECRET, issuer: 'https://app.example', audience: 'chute' },
  apiKeys: [{ id: 'backend', secretHash: KEY.secretHash, role: 'admin' }],
});

const mint = (o: Partial<Parameters<typeof mintToken>[0]> = {}) =>
  mintToken({ user: 'alice', secret: SECRET, issuer: 'https://app.example', audience: 'chute', ...o });

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Asserts a 401 (with its challenge) or another code. */
function fails(code: GatewayErrorCode, challenge?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ChuteError, String(e));
    assert.equal(e.code, code, e.message);
    if (challenge) assert.match(e.headers['www-authenticate'] ?? '', challenge);
    return true;
  };
}

test('a valid HS256 token → the user, role uploader by default, and when the token ends', async () => {
  const now = Date.now();
  assert.deepEqual(await hs.authenticate(bearer(await mint({ now, ttl: 600 }))), {
    userId: 'alice',
    role: 'uploader',
    via: 'jwt',
    expiresAt: (Math.floor(now / 1000) + 600) * 1000,
  });
});

test('the roles claim gives the role; "bearer" is case-insensitive; fetch Headers work', async () => {
  const token = await mint({ role: 'reviewer' });
  const p = await hs.authenticate(new Headers({ authorization: `bearer ${token}` }));
  assert.equal(p.role, 'reviewer');
});

test('no credentials → 401 with a bare Bearer challenge (no error code, RFC 6750 §3.1)', async () => {
  await assert.rejects(hs.authenticate({}), (e: unknown) => {
    assert.ok(e instanceof ChuteError && e.status === 401);
    assert.equal(e.headers['www-authenticate'], 'Bearer realm="chute"');
    return true;
  });
});

test('an expired token (issued 2 h ago, 1 h ttl) → 401 invalid_token "Token expired"', async () => {
  const token = await mint({ now: Date.now() - 7200_000, ttl: 3600 });
  await assert.rejects(hs.authenticate(bearer(token)), (e: unknown) => {
    fails('unauthenticated', /error="invalid_token"/)(e);
    assert.match((e as Error).message, /expired/);
    return true;
  });
});

test('a token signed with another secret → 401', async () => {
  const token = await mint({ secret: 'another-secret-another-secret-0000' });
  await assert.rejects(hs.authenticate(bearer(token)), fails('unauthenticated', /invalid_token/));
});

test('wrong issuer → 401; wrong audience → 401', async () => {
  await assert.rejects(
    hs.authenticate(bearer(await mint({ issuer: 'https://evil.example' }))),
    fails('unauthenticated'),
  );
  await assert.rejects(hs.authenticate(bearer(await mint({ audience: 'other' }))), fails('unauthenticated'));
});

test('alg "none" (an unsecured JWT) is refused', async () => {
  const token = new UnsecuredJWT({ roles: ['admin'] })
    .setSubject('alice')
    .setIssuer('https://app.example')
    .setAudience('chute')
    .setExpirationTime('1h')
    .encode();
  await assert.rejects(hs.authenticate(bearer(token)), fails('unauthenticated'));
});

test('a token without sub → 401; without exp → 401', async () => {
  const key = new TextEncoder().encode(SECRET);
  const base = () =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://app.example')
      .setAudience('chute');
  await assert.rejects(
    hs.authenticate(bearer(await base().setExpirationTime('1h').sign(key))),
    fails('unauthenticated'),
  );
  await assert.rejects(
    hs.authenticate(bearer(await base().setSubject('alice').sign(key))),
    fails('unauthenticated'),
  );
});

test('sub "../bob" (unsafe in a storage key) → 401', async () => {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('../bob')
    .setIssuer('https://app.example')
    .setAudience('chute')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
  await assert.rejects(hs.authenticate(bearer(token)), fails('unauthenticated', /invalid_token/));
});

test('mintToken refuses an unsafe user id', async () => {
  await assert.rejects(mint({ user: 'a/b' }), fails('invalid_request'));
});

test('Authorization "Basic …" or "Bearer" with no token → 401 invalid_request', async () => {
  await assert.rejects(
    hs.authenticate({ authorization: 'Basic YWxpY2U6cHc=' }),
    fails('unauthenticated', /invalid_request/),
  );
  await assert.rejects(
    hs.authenticate({ authorization: 'Bearer ' }),
    fails('unauthenticated', /invalid_request/),
  );
});

test('an API key works as Bearer ck_… and as X-Api-Key; its role and user come from the config', async () => {
  const expected: Principal = { userId: 'backend', role: 'admin', via: 'api-key', keyId: 'backend' };
  assert.deepEqual(await hs.authenticate(bearer(KEY.key)), expected);
  assert.deepEqual(await hs.authenticate({ 'x-api-key': KEY.key }), expected);
});

test('a wrong API key (one character changed) → 401', async () => {
  const wrong = `${KEY.key.slice(0, -1)}${KEY.key.endsWith('a') ? 'b' : 'a'}`;
  await assert.rejects(hs.authenticate(bearer(wrong)), fails('unauthenticated'));
  await assert.rejects(hs.authenticate({ 'x-api-key': wrong }), fails('unauthenticated'));
});

test('both Authorization and X-Api-Key → 401; two Authorization headers → 400', async () => {
  await assert.rejects(
    hs.authenticate({ authorization: `Bearer ${await mint()}`, 'x-api-key': KEY.key }),
    fails('unauthenticated'),
  );
  await assert.rejects(
    hs.authenticate({ authorization: ['Bearer a', 'Bearer b'] } as never),
    fails('invalid_request'),
  );
});

test('a JWT when only API keys are configured → 401', async () => {
  const keysOnly = authFor({ apiKeys: [{ id: 'backend', secretHash: KEY.secretHash, role: 'admin' }] });
  await assert.rejects(keysOnly.authenticate(bearer(await mint())), fails('unauthenticated'));
});

test('roles: highest of ours wins, unknown ignored, dotted and namespaced claims read', () => {
  assert.equal(roleFromClaim(['viewer', 'admin', 'reviewer']), 'admin');
  assert.equal(roleFromClaim('superuser'), 'uploader');
  assert.equal(roleFromClaim(undefined), 'uploader');
  assert.equal(roleFromClaim(['constructor']), 'uploader');
  assert.deepEqual(readClaim({ realm_access: { roles: ['reviewer'] } }, 'realm_access.roles'), ['reviewer']);
  assert.deepEqual(readClaim({ 'https://chute.dev/roles': 'admin' }, 'https://chute.dev/roles'), 'admin');
  assert.equal(readClaim({ a: 1 }, 'a.toString'), undefined);
});

test('requireRole: an uploader on a reviewer action → 403; admin passes everything', () => {
  const uploader: Principal = { userId: 'a', role: 'uploader', via: 'jwt' };
  assert.throws(() => requireRole(uploader, 'reviewer'), fails('forbidden'));
  assert.ok(hasRole({ ...uploader, role: 'admin' }, 'reviewer'));
  assert.ok(hasRole({ ...uploader, role: 'reviewer' }, 'uploader'));
});

describe('JWKS', () => {
  let server: Server;
  let url: string;
  let requests = 0;
  let keys: KeyPair;

  before(async () => {
    keys = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((_req, res) => {
      requests++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const sign = (privateKey: KeyPair['privateKey'], kid = 'k1', sub = 'carol') =>
    new SignJWT({ groups: ['reviewer'] })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject(sub)
      .setIssuer('https://idp.example')
      .setExpirationTime('5m')
      .sign(privateKey);

  test('an ES256 token verified with the key set from a JWKS URL', async () => {
    const auth = authFor({ jwt: { jwksUrl: url, issuer: 'https://idp.example', rolesClaim: 'groups' } });
    const { expiresAt, ...principal } = await auth.authenticate(bearer(await sign(keys.privateKey)));
    assert.deepEqual(principal, { userId: 'carol', role: 'reviewer', via: 'jwt' });
    // setExpirationTime('5m'): the token's exp, in ms.
    assert.ok(Math.abs(expiresAt! - (Date.now() + 300_000)) < 5000, String(expiresAt));
    assert.ok(requests >= 1);
  });

  test('a token signed by a key not in the set → 401', async () => {
    const auth = authFor({ jwt: { jwksUrl: url } });
    const other = await generateKeyPair('ES256');
    await assert.rejects(auth.authenticate(bearer(await sign(other.privateKey))), fails('unauthenticated'));
    await assert.rejects(
      auth.authenticate(bearer(await sign(other.privateKey, 'k2'))),
      fails('unauthenticated'),
    );
  });

  test('an HS256 token presented to a JWKS verifier (algorithm confusion) → 401', async () => {
    const auth = authFor({ jwt: { jwksUrl: url } });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(await exportJWK(keys.publicKey))));
    await assert.rejects(auth.authenticate(bearer(token)), fails('unauthenticated'));
  });

  test('the JWKS URL unreachable → 503 unavailable (not a 401 that would discard good tokens)', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const auth = authFor({ jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks` } });
    await assert.rejects(auth.authenticate(bearer(await sign(keys.privateKey))), (e: unknown) => {
      fails('unavailable')(e);
      assert.equal((e as ChuteError).status, 503);
      return true;
    });
  });
});
