// Adversarial: credentials and other users' uploads, against `chute dev` over real HTTP.
// Tried: tokens signed with another secret, expired, `alg: none` (with and without a
// signature), `alg: RS256`/HS512 over the dev secret (algorithm confusion), without `exp`, without
// `sub`, with a `sub` that is not a user id (`../bob`, `bob/x`, 200 characters), a reviewer/admin
// role claimed in a forged token, a token sent as an API key and both at once; other users'
// ids on every id route, and in the list.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grant, jwt, type Stack, startStack } from './helpers.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const body = { route: 'logo', filename: 'a.png', contentType: 'image/png', size: 100 };
const now = () => Math.floor(Date.now() / 1000);

async function code(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('adversarial: tokens', () => {
  const forged: [string, () => string][] = [
    [
      'signed with another secret',
      () => jwt({ alg: 'HS256' }, { sub: 'alice', exp: now() + 600 }, 'x'.repeat(43)),
    ],
    ['expired a minute ago', () => stack.token('alice', { exp: now() - 60 })],
    ['alg none, no signature', () => jwt({ alg: 'none' }, { sub: 'alice', exp: now() + 600 })],
    [
      'alg none with a signature',
      () => jwt({ alg: 'none' }, { sub: 'alice', exp: now() + 600 }, stack.secret),
    ],
    ['alg NONE', () => jwt({ alg: 'NONE' }, { sub: 'alice', exp: now() + 600 })],
    [
      'alg RS256, HMAC over the secret',
      () => jwt({ alg: 'RS256' }, { sub: 'alice', exp: now() + 600 }, stack.secret),
    ],
    [
      'alg HS512 header, HS256 signature',
      () => jwt({ alg: 'HS512' }, { sub: 'alice', exp: now() + 600 }, stack.secret),
    ],
    ['no exp', () => jwt({ alg: 'HS256' }, { sub: 'alice' }, stack.secret)],
    ['no sub', () => jwt({ alg: 'HS256' }, { exp: now() + 600 }, stack.secret)],
    ['not before in an hour', () => stack.token('alice', { nbf: now() + 3600 })],
    [
      'the payload swapped under a valid signature',
      () => {
        const [h, , s] = stack.token('alice').split('.');
        const p = Buffer.from(JSON.stringify({ sub: 'root', exp: now() + 600, roles: ['admin'] })).toString(
          'base64url',
        );
        return `${h}.${p}.${s}`;
      },
    ],
    ['not a JWT', () => 'definitely-not-a-jwt'],
    ['empty', () => ''],
  ];
  for (const [name, make] of forged) {
    test(`${name}: 401 unauthenticated, no grant`, async () => {
      const res = await stack.api('/v1/grants', { token: make(), json: body });
      assert.equal(res.status, 401, await res.clone().text());
      assert.equal(await code(res), 'unauthenticated');
    });
  }

  for (const sub of ['../bob', 'bob/x', 'a b', 'x'.repeat(200), 'auth0|123']) {
    test(`a validly signed token for sub ${JSON.stringify(sub.slice(0, 20))} is refused (a user id is a key segment)`, async () => {
      const res = await stack.api('/v1/grants', { token: stack.token(sub), json: body });
      assert.equal(res.status, 401, await res.clone().text());
    });
  }

  test('a Bearer token and an API key at once are refused; a JWT sent as an API key is not one', async () => {
    const both = await stack.api('/v1/grants', {
      token: stack.token('alice'),
      json: body,
      headers: { 'x-api-key': 'ck_x' },
    });
    assert.ok(both.status === 400 || both.status === 401, String(both.status));
    const asKey = await stack.api('/v1/grants', {
      json: body,
      headers: { 'x-api-key': stack.token('alice') },
    });
    assert.equal(asKey.status, 401);
  });

  test('POST /dev/token mints only for the demo users', async () => {
    for (const user of ['mallory', 'root ', 'ALICE', '']) {
      const res = await stack.api('/dev/token', { json: { user } });
      assert.ok(res.status === 404 || res.status === 400, `${user}: ${res.status}`);
    }
    const ok = await stack.api('/dev/token', { json: { user: 'alice' } });
    assert.equal(ok.status, 200);
  });
});

describe("adversarial: other users' ids", () => {
  test("bob can neither see, complete, download nor list alice's upload; an admin can see it", async () => {
    const alice = stack.token('alice');
    const bob = stack.token('bob');
    const g = await grant(stack, alice, body);
    for (const [method, p] of [
      ['GET', `/v1/uploads/${g.id}`],
      ['POST', `/v1/uploads/${g.id}/complete`],
      ['GET', `/v1/files/${g.id}/download`],
    ] as const) {
      const res = await stack.api(p, { method, token: bob });
      assert.equal(res.status, 404, `${method} ${p}: ${res.status}`);
      assert.equal(await code(res), 'not_found');
    }
    const list = (await (await stack.api('/v1/uploads', { token: bob })).json()) as {
      items: { id: string }[];
    };
    assert.ok(!list.items.some((u) => u.id === g.id), "alice's upload in bob's list");
    // A user id smuggled into the query does not widen the list.
    const widened = await stack.api(`/v1/uploads?userId=alice&user=alice`, { token: bob });
    assert.equal(widened.status, 400);
    const admin = await stack.api(`/v1/uploads/${g.id}`, {
      token: stack.token('root', { roles: ['admin'] }),
    });
    assert.equal(admin.status, 200);
  });

  test("a grant's form cannot be pointed at another user's key", async () => {
    const g = await grant(stack, stack.token('alice'), body);
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...g.fields, key: g.key.replace('/alice/', '/bob/') }))
      form.append(k, v);
    form.append('file', new Blob([new Uint8Array(100)]), 'a.png');
    const res = await fetch(g.url, { method: 'POST', body: form });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
  });
});
